import { describe, expect, it } from 'vitest';
import { intendedVerdict, ipBlockCidrs, judgeDirection, policyTypesOf, portsMatch, type PolicyDoc, type PolicyEndpoint } from './networkPolicySemantics.js';

// Kubernetes NetworkPolicy semantics as the API documents them: isolation per direction, peers
// as a union, podSelector and namespaceSelector in one peer as an AND, ipBlock with excepts,
// ports by number, name (the destination's container port) and range.

const TCP = (port: number) => ({ port, protocol: 'TCP' });
const shop = { 'kubernetes.io/metadata.name': 'shop' };
const front = { 'kubernetes.io/metadata.name': 'front', access: 'yes' };
const web: PolicyEndpoint = { namespace: 'shop', labels: { app: 'web' }, namespaceLabels: shop, ip: '10.244.1.5', namedPorts: { http: 8080 } };
const db: PolicyEndpoint = { namespace: 'shop', labels: { app: 'db' }, namespaceLabels: shop, ip: '10.244.2.7' };
const client: PolicyEndpoint = { namespace: 'front', labels: { app: 'client' }, namespaceLabels: front, ip: '10.244.3.9' };
const other: PolicyEndpoint = { namespace: 'other', labels: { app: 'client' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'other' }, ip: '10.244.4.2' };

const policy = (namespace: string, name: string, spec: PolicyDoc['spec']): PolicyDoc => ({ namespace, name, spec });
const denyAll = policy('shop', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
const webFrom = policy('shop', 'web-from', {
  podSelector: { matchLabels: { app: 'web' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }, { namespaceSelector: { matchLabels: { access: 'yes' } } }], ports: [{ port: 'http' }] }],
});

describe('NetworkPolicy semantics', () => {
  it('no policy selecting a pod: everything allowed; a default-deny isolates every pod of its namespace only', () => {
    expect(intendedVerdict([], client, db, TCP(80)).allowed).toBe(true);
    const v = intendedVerdict([denyAll], client, db, TCP(80));
    expect(v.allowed).toBe(false);
    expect(v.ingress.isolatedBy).toEqual(['shop/deny']);
    expect(intendedVerdict([denyAll], db, client, TCP(80)).allowed).toBe(true);
  });

  it('peers are a union: the pod selector (own namespace) or the namespace selector; a named port resolves on the destination', () => {
    const ps = [denyAll, webFrom];
    expect(intendedVerdict(ps, client, web, TCP(8080))).toMatchObject({ allowed: true, ingress: { allowedBy: 'shop/web-from' } });
    expect(intendedVerdict(ps, client, web, TCP(9090)).allowed).toBe(false);
    expect(intendedVerdict(ps, other, web, TCP(8080)).allowed).toBe(false);
    // A pod labelled app=web in another namespace is not "web" for a pod selector without a namespace selector.
    expect(intendedVerdict(ps, { ...other, labels: { app: 'web' } }, web, TCP(8080)).allowed).toBe(false);
    expect(intendedVerdict(ps, { ...web, ip: '10.244.9.9' }, web, TCP(8080)).allowed).toBe(true);
  });

  it('podSelector and namespaceSelector in one peer must both match', () => {
    const p = policy('shop', 'and', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { access: 'yes' } }, podSelector: { matchLabels: { app: 'admin' } } }] }] });
    expect(intendedVerdict([p], client, db, TCP(1)).allowed).toBe(false);
    expect(intendedVerdict([p], { ...client, labels: { app: 'admin' } }, db, TCP(1)).allowed).toBe(true);
  });

  it('ipBlock matches the address seen, minus its excepts; never an unknown address or one the enforcer will not match by CIDR', () => {
    const p = policy('shop', 'cidr', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.4.0/24'] } }] }] });
    expect(intendedVerdict([p], client, db, TCP(1)).allowed).toBe(true);
    expect(intendedVerdict([p], other, db, TCP(1)).allowed).toBe(false);
    expect(judgeDirection([p], db, { ip: client.ip, cidrMatchable: true }, 'Ingress', TCP(1)).allowed).toBe(true);
    expect(judgeDirection([p], db, { ip: client.ip, cidrMatchable: false }, 'Ingress', TCP(1)).allowed).toBe(false);
    expect(judgeDirection([p], db, { cidrMatchable: true }, 'Ingress', TCP(1)).allowed).toBe(false);
    expect(ipBlockCidrs([p, webFrom])).toEqual(['10.244.0.0/16', '10.244.4.0/24']);
  });

  it('a selector rule never matches a remote end whose pod is unknown (what a CNI that cannot tie an address to a pod sees)', () => {
    expect(judgeDirection([denyAll, webFrom], web, { pod: client, ip: client.ip, cidrMatchable: true }, 'Ingress', TCP(8080), web.namedPorts).allowed).toBe(true);
    expect(judgeDirection([denyAll, webFrom], web, { ip: client.ip, cidrMatchable: true }, 'Ingress', TCP(8080), web.namedPorts).allowed).toBe(false);
  });

  it('egress: policyTypes default to Ingress plus Egress when egress rules exist; the source is isolated for egress', () => {
    const egress = policy('front', 'out', { podSelector: { matchLabels: { app: 'client' } }, egress: [{ to: [{ namespaceSelector: { matchLabels: shop }, podSelector: { matchLabels: { app: 'web' } } }] }] });
    expect(policyTypesOf(egress.spec)).toEqual(['Ingress', 'Egress']);
    expect(intendedVerdict([egress], client, web, TCP(8080)).allowed).toBe(true);
    const toDb = intendedVerdict([egress], client, db, TCP(5432));
    expect(toDb).toMatchObject({ allowed: false, egress: { allowed: false, isolatedBy: ['front/out'] } });
    // Ingress isolation too (policyTypes includes Ingress, no ingress rules): nothing reaches the client.
    expect(intendedVerdict([egress], db, client, TCP(8080)).allowed).toBe(false);
  });

  it('ports: protocol defaults to TCP, a range by endPort, a name the destination does not declare matches nothing', () => {
    expect(portsMatch([{ port: 8000, endPort: 8100 }], TCP(8080))).toBe(true);
    expect(portsMatch([{ port: 8000, endPort: 8100 }], TCP(8101))).toBe(false);
    expect(portsMatch([{ protocol: 'UDP', port: 8080 }], TCP(8080))).toBe(false);
    expect(portsMatch([{ protocol: 'TCP' }], TCP(1))).toBe(true);
    expect(portsMatch([{ port: 'metrics' }], TCP(8080), { http: 8080 })).toBe(false);
  });
});
