import type { SourceDescription } from '../sourceTypes.js';

/** The built-in simulated cluster's source: the original tool's Canal (10-calico.conflist in /etc/kubernetes/cni/net.d). */
export function seedCanalSource(over: Partial<SourceDescription> = {}): SourceDescription {
  return {
    kind: 'canal',
    install: 'manifest',
    daemonSet: { namespace: 'kube-system', name: 'canal' },
    confDir: { value: '/etc/kubernetes/cni/net.d', from: 'test fixture' },
    confFile: { value: '10-calico.conflist', from: 'test fixture' },
    networkName: { value: 'k8s-pod-network', from: 'test fixture' },
    podCIDRs: { value: ['10.244.0.0/16'], from: 'test fixture' },
    overlay: { value: { type: 'vxlan', port: 8472, vni: 1, crossSubnet: false }, from: 'test fixture' },
    policyEnforcement: 'calico',
    warnings: [],
    ...over,
  };
}
