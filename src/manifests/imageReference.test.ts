import { describe, expect, it } from 'vitest';
import { mirrorImage, registryOf } from './imageReference.js';

describe('mirrorImage', () => {
  it.each([
    ['quay.io/cilium/cilium:v1.18.4', 'registry.local:5000', 'registry.local:5000/cilium/cilium:v1.18.4'],
    ['ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2', 'harbor.example/proxy/', 'harbor.example/proxy/k8snetworkplumbingwg/multus-cni:v4.2.2'],
    ['localhost:5000/probe:1', 'mirror', 'mirror/probe:1'],
    ['cilium/cilium:v1.7.4', 'mirror.local', 'mirror.local/cilium/cilium:v1.7.4'],
    ['busybox:1.36', 'mirror.local', 'mirror.local/library/busybox:1.36'],
    ['quay.io/cilium/cilium@sha256:abcd', 'm.local', 'm.local/cilium/cilium@sha256:abcd'],
  ])('%s through %s → %s', (image, mirror, expected) => {
    expect(mirrorImage(image, mirror)).toBe(expected);
  });

  it('leaves the image alone without a mirror', () => {
    expect(mirrorImage('quay.io/cilium/cilium:v1.18.4', undefined)).toBe('quay.io/cilium/cilium:v1.18.4');
  });

  it('tells registry hosts from Docker Hub namespaces', () => {
    expect(registryOf('quay.io/cilium/cilium')).toBe('quay.io');
    expect(registryOf('localhost/x')).toBe('localhost');
    expect(registryOf('cilium/cilium')).toBeUndefined();
    expect(registryOf('busybox')).toBeUndefined();
  });
});
