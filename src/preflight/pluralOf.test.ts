import { describe, expect, it } from 'vitest';
import { pluralOf } from './clusterPreflight.js';

// The resource name asked about for a kind not served yet (its CRD comes later): the API server's plural.
describe('pluralOf', () => {
  it('follows the API server for the kinds the tool names before their CRDs exist', () => {
    expect(pluralOf('CiliumClusterwideNetworkPolicy')).toBe('ciliumclusterwidenetworkpolicies');
    expect(pluralOf('CiliumNodeConfig')).toBe('ciliumnodeconfigs');
    expect(pluralOf('IngressClass')).toBe('ingressclasses');
    expect(pluralOf('Gateway')).toBe('gateways');
  });
});
