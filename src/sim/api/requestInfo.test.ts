import { describe, expect, it } from 'vitest';
import { parseRequestPath } from './requestInfo.js';
import { parseFieldSelector } from './fieldSelector.js';
import { parseLabelSelector, matchesRequirements } from '../store/labelSelector.js';

describe('request paths', () => {
  it('parses namespaced, cluster-scoped, subresource and proxy paths', () => {
    expect(parseRequestPath('/api/v1/namespaces/kube-system/pods/p1/eviction')).toMatchObject({ type: 'resource', group: '', version: 'v1', namespace: 'kube-system', resource: 'pods', name: 'p1', subresource: 'eviction' });
    expect(parseRequestPath('/apis/apps/v1/daemonsets')).toMatchObject({ group: 'apps', resource: 'daemonsets', name: undefined });
    expect(parseRequestPath('/api/v1/namespaces/demo')).toMatchObject({ resource: 'namespaces', name: 'demo', namespace: undefined });
    expect(parseRequestPath('/api/v1/namespaces/demo/status')).toMatchObject({ resource: 'namespaces', name: 'demo', subresource: 'status' });
    expect(parseRequestPath('/api/v1/namespaces/n/pods/p:8080/proxy/a/b')).toMatchObject({ name: 'p:8080', subresource: 'proxy', subpath: 'a/b' });
    expect(parseRequestPath('/api/v1/watch/namespaces/n/pods')).toMatchObject({ legacyWatch: true, namespace: 'n', resource: 'pods' });
    expect(parseRequestPath('/apis/apps/v1')).toEqual({ type: 'nonResource', path: '/apis/apps/v1' });
  });
});

describe('selectors', () => {
  it('parses set-based label selectors and matches them', () => {
    const reqs = parseLabelSelector('app=web, tier in (a,b),!legacy,env!=prod,has');
    expect(matchesRequirements({ app: 'web', tier: 'b', has: '' }, reqs)).toBe(true);
    expect(matchesRequirements({ app: 'web', tier: 'c', has: '' }, reqs)).toBe(false);
    expect(matchesRequirements({ app: 'web', tier: 'a', has: '', legacy: 'x' }, reqs)).toBe(false);
  });

  it('refuses malformed label selectors with 400', () => {
    expect(() => parseLabelSelector('app in (a')).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => parseLabelSelector('a=b,')).toThrow(/unable to parse requirement/);
  });

  it('supports the field labels kube-apiserver registers and refuses others', () => {
    expect(parseFieldSelector('pods', 'spec.nodeName=node-1,status.phase!=Succeeded')).toHaveLength(2);
    expect(() => parseFieldSelector('pods', 'spec.foo=1')).toThrow('field label not supported: spec.foo');
    expect(() => parseFieldSelector('nodes', 'spec.nodeName=a')).toThrow(expect.objectContaining({ code: 400 }));
  });
});
