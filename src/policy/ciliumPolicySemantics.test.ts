import { describe, expect, it } from 'vitest';
import { ciliumPolicyDocOf, judgeClusterwide, type CiliumPolicyDoc } from './ciliumPolicySemantics.js';
import { POLICY_BRIDGE_LABEL } from './networkPolicySemantics.js';

const web = { namespace: 'shop', labels: { app: 'web' } };
const allowLegacy = (deny?: boolean): CiliumPolicyDoc => ({
  name: 'legacy',
  endpointSelector: {},
  ...(deny === undefined ? {} : { enableDefaultDeny: { ingress: deny, egress: deny } }),
  ingress: [{ fromEntities: ['unmanaged', 'remote-node'] }],
});

describe('judgeClusterwide', () => {
  it('admits the entities its rules name, by how the other end appears', () => {
    expect(judgeClusterwide([allowLegacy(false)], web, 'remote-node', 'Ingress')).toEqual({ isolatedBy: [], allowedBy: 'CiliumClusterwideNetworkPolicy legacy' });
    expect(judgeClusterwide([allowLegacy(false)], web, 'address', 'Ingress').allowedBy).toBe('CiliumClusterwideNetworkPolicy legacy');
    // A Cilium endpoint is neither unmanaged nor remote-node.
    expect(judgeClusterwide([allowLegacy(false)], web, 'identity', 'Ingress').allowedBy).toBeUndefined();
    // No egress rules: nothing said about egress.
    expect(judgeClusterwide([allowLegacy(false)], web, 'address', 'Egress')).toEqual({ isolatedBy: [] });
  });

  it('isolates what it selects unless enableDefaultDeny is off for the direction', () => {
    expect(judgeClusterwide([allowLegacy()], web, 'identity', 'Ingress').isolatedBy).toEqual(['CiliumClusterwideNetworkPolicy legacy']);
    expect(judgeClusterwide([allowLegacy(true)], web, 'identity', 'Ingress').isolatedBy).toEqual(['CiliumClusterwideNetworkPolicy legacy']);
    expect(judgeClusterwide([allowLegacy(false)], web, 'identity', 'Ingress').isolatedBy).toEqual([]);
  });

  it('selects endpoints by labels, with or without the k8s: prefix, and by namespace', () => {
    const onlyDb: CiliumPolicyDoc = { ...allowLegacy(false), endpointSelector: { matchLabels: { 'k8s:app': 'db' } } };
    expect(judgeClusterwide([onlyDb], web, 'remote-node', 'Ingress').allowedBy).toBeUndefined();
    expect(judgeClusterwide([onlyDb], { namespace: 'shop', labels: { app: 'db' } }, 'remote-node', 'Ingress').allowedBy).toBeDefined();
    const inShop: CiliumPolicyDoc = { ...allowLegacy(false), endpointSelector: { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'shop' } } };
    expect(judgeClusterwide([inShop], web, 'remote-node', 'Ingress').allowedBy).toBeDefined();
    expect(judgeClusterwide([inShop], { namespace: 'other', labels: { app: 'web' } }, 'remote-node', 'Ingress').allowedBy).toBeUndefined();
  });

  it('reads a stored policy and marks the bridge', () => {
    const o = { metadata: { name: 'b', labels: { [POLICY_BRIDGE_LABEL.key]: POLICY_BRIDGE_LABEL.value } }, spec: { endpointSelector: {}, enableDefaultDeny: { ingress: false }, ingress: [{ fromEntities: ['unmanaged'] }] } };
    expect(ciliumPolicyDocOf(o, POLICY_BRIDGE_LABEL)).toEqual({ name: 'b', endpointSelector: {}, enableDefaultDeny: { ingress: false }, ingress: [{ fromEntities: ['unmanaged'] }], bridge: true });
  });
});
