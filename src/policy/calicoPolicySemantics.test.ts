import { describe, expect, it } from 'vitest';
import { calicoPolicyDocOf, judgeFelix, workloadLabels, type CalicoPolicyDoc } from './calicoPolicySemantics.js';
import { POLICY_BRIDGE_LABEL, type PolicyDoc, type PolicyEndpoint, type RemoteEnd } from './networkPolicySemantics.js';

const web: PolicyEndpoint = { namespace: 'shop', labels: { app: 'web' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'shop', team: 'a' }, namedPorts: { http: 8080 }, ip: '10.244.1.5' };
const client: PolicyEndpoint = { namespace: 'front', labels: { app: 'client' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'front' }, ip: '10.244.2.7' };
const known = (p: PolicyEndpoint): RemoteEnd => ({ pod: p, ip: p.ip, cidrMatchable: true });
const unknown = (ip: string): RemoteEnd => ({ ip, cidrMatchable: true });
const TCP = (port: number) => ({ port, protocol: 'TCP' });

const gnp = (name: string, order: number | undefined, rest: Partial<CalicoPolicyDoc>): CalicoPolicyDoc => ({ kind: 'GlobalNetworkPolicy', name, ...(order !== undefined ? { order } : {}), ...rest });
const denyAllIngress: PolicyDoc = { namespace: 'shop', name: 'deny', spec: { podSelector: {}, policyTypes: ['Ingress'] } };
const allowClient: PolicyDoc = { namespace: 'shop', name: 'allow-client', spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'front' } } }] }] } };

describe('judgeFelix', () => {
  it('allows what no policy selects, and drops at the end of the tier what selected policies do not decide', () => {
    expect(judgeFelix([], [], web, known(client), 'Ingress', TCP(80))).toEqual({ allowed: true, isolatedBy: [] });
    const logOnly = gnp('log', 5, { selector: 'all()', ingress: [{ action: 'Log' }] });
    expect(judgeFelix([], [logOnly], web, known(client), 'Ingress', TCP(80))).toEqual({ allowed: false, isolatedBy: ['GlobalNetworkPolicy log'] });
  });

  it('walks policies by order, Kubernetes ones at 1000: a Deny before them wins, one after them does not', () => {
    const deny = (order: number) => gnp('deny-client', order, { selector: "app == 'web'", ingress: [{ action: 'Deny', source: { namespaceSelector: "kubernetes.io/metadata.name == 'front'" } }] });
    expect(judgeFelix([allowClient], [deny(10)], web, known(client), 'Ingress', TCP(80))).toMatchObject({ allowed: false, decidedBy: 'GlobalNetworkPolicy deny-client (Deny)' });
    expect(judgeFelix([allowClient], [deny(2000)], web, known(client), 'Ingress', TCP(80))).toMatchObject({ allowed: true, decidedBy: 'shop/allow-client' });
    // Without an order a policy comes last.
    expect(judgeFelix([allowClient], [deny(Number.NaN)].map(({ order: _o, ...p }) => p), web, known(client), 'Ingress', TCP(80))).toMatchObject({ allowed: true });
  });

  it('Pass leaves the tier: the Kubernetes deny after it no longer applies', () => {
    const pass = gnp('pass', 10, { selector: 'all()', ingress: [{ action: 'Pass' }] });
    expect(judgeFelix([denyAllIngress], [pass], web, known(client), 'Ingress', TCP(80))).toMatchObject({ allowed: true, decidedBy: 'GlobalNetworkPolicy pass (Pass)' });
    expect(judgeFelix([denyAllIngress], [], web, known(client), 'Ingress', TCP(80)).allowed).toBe(false);
  });

  it('matches an address it cannot tie to a pod by nets only: selector never, notSelector always', () => {
    const sel = gnp('sel', 10, { selector: 'all()', ingress: [{ action: 'Deny', source: { selector: "app == 'client'" } }, { action: 'Allow' }] });
    expect(judgeFelix([], [sel], web, known(client), 'Ingress', TCP(80)).allowed).toBe(false);
    expect(judgeFelix([], [sel], web, unknown(client.ip), 'Ingress', TCP(80)).allowed).toBe(true);
    const notSel = gnp('not', 10, { selector: 'all()', ingress: [{ action: 'Deny', source: { notSelector: "app == 'client'" } }, { action: 'Allow' }] });
    expect(judgeFelix([], [notSel], web, known(client), 'Ingress', TCP(80)).allowed).toBe(true);
    expect(judgeFelix([], [notSel], web, unknown(client.ip), 'Ingress', TCP(80)).allowed).toBe(false);
    const nets = gnp('nets', 10, { selector: 'all()', ingress: [{ action: 'Deny', source: { nets: ['10.244.2.0/24'], notNets: ['10.244.2.7/32'] } }, { action: 'Allow' }] });
    expect(judgeFelix([], [nets], web, unknown('10.244.2.7'), 'Ingress', TCP(80)).allowed).toBe(true);
    expect(judgeFelix([], [nets], web, unknown('10.244.2.8'), 'Ingress', TCP(80)).allowed).toBe(false);
  });

  it('matches protocols, ports, ranges and named ports of the destination', () => {
    const p = gnp('ports', 10, { selector: 'all()', ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: ['http', '9000:9010'] } }, { action: 'Allow' }] });
    expect(judgeFelix([], [p], web, known(client), 'Ingress', TCP(8080), web.namedPorts).allowed).toBe(false);
    expect(judgeFelix([], [p], web, known(client), 'Ingress', TCP(9005), web.namedPorts).allowed).toBe(false);
    expect(judgeFelix([], [p], web, known(client), 'Ingress', TCP(9011), web.namedPorts).allowed).toBe(true);
    expect(judgeFelix([], [p], web, known(client), 'Ingress', { port: 8080, protocol: 'UDP' }, web.namedPorts).allowed).toBe(true);
    const notPorts = gnp('not-ports', 10, { selector: 'all()', ingress: [{ action: 'Deny', protocol: 'TCP', destination: { notPorts: [8080] } }, { action: 'Allow' }] });
    expect(judgeFelix([], [notPorts], web, known(client), 'Ingress', TCP(8080)).allowed).toBe(true);
    expect(judgeFelix([], [notPorts], web, known(client), 'Ingress', TCP(80)).allowed).toBe(false);
  });

  it('scopes a namespaced policy and its rule selectors to its namespace', () => {
    const np: CalicoPolicyDoc = { kind: 'NetworkPolicy', namespace: 'shop', name: 'np', selector: 'all()', ingress: [{ action: 'Allow', source: { selector: "app == 'client'" } }] };
    // The client is in another namespace: the rule's selector does not reach it, the tier drops.
    expect(judgeFelix([], [np], web, known(client), 'Ingress', TCP(80)).allowed).toBe(false);
    expect(judgeFelix([], [np], client, known(web), 'Ingress', TCP(80))).toEqual({ allowed: true, isolatedBy: [] });
  });

  it("a namespaced policy's notSelector matches only pods of its namespace (felix adds the namespace as a positive condition)", () => {
    const np: CalicoPolicyDoc = { kind: 'NetworkPolicy', namespace: 'shop', name: 'np', types: ['Ingress'], selector: 'all()', ingress: [{ action: 'Deny', source: { notSelector: "app == 'web'" } }, { action: 'Allow' }] };
    const shopDb: PolicyEndpoint = { ...web, labels: { app: 'db' }, ip: '10.244.1.9' };
    expect(judgeFelix([], [np], web, known(shopDb), 'Ingress', TCP(80)).allowed).toBe(false);
    expect(judgeFelix([], [np], web, known(client), 'Ingress', TCP(80)).allowed).toBe(true);
    expect(judgeFelix([], [np], web, unknown('10.9.9.9'), 'Ingress', TCP(80)).allowed).toBe(true);
  });

  it('a stored policy without types governs both directions, as felix reads it', () => {
    const untyped = gnp('untyped', 10, { selector: "app == 'web'", ingress: [{ action: 'Allow' }] });
    expect(judgeFelix([], [untyped], web, known(client), 'Egress', TCP(80))).toEqual({ allowed: false, isolatedBy: ['GlobalNetworkPolicy untyped'] });
  });

  it('sees namespace labels as pcns.<key>, and selects by GlobalNetworkPolicy namespaceSelector', () => {
    expect(workloadLabels(web)).toEqual({ app: 'web', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s', 'pcns.kubernetes.io/metadata.name': 'shop', 'pcns.team': 'a' });
    const byNs = gnp('team-a', 10, { namespaceSelector: "team == 'a'", ingress: [{ action: 'Deny' }] });
    expect(judgeFelix([], [byNs], web, known(client), 'Ingress', TCP(80)).allowed).toBe(false);
    expect(judgeFelix([], [byNs], client, known(web), 'Ingress', TCP(80)).allowed).toBe(true);
  });
});

describe('calicoPolicyDocOf', () => {
  it('reads the stored spec, marks bridge policies, and leaves out tiers other than default', () => {
    const o = { kind: 'GlobalNetworkPolicy', metadata: { name: 'b', labels: { [POLICY_BRIDGE_LABEL.key]: POLICY_BRIDGE_LABEL.value } }, spec: { order: 10, selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow' }] } };
    expect(calicoPolicyDocOf(o, POLICY_BRIDGE_LABEL)).toEqual({ kind: 'GlobalNetworkPolicy', name: 'b', order: 10, selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow' }], bridge: true });
    expect(calicoPolicyDocOf({ kind: 'NetworkPolicy', metadata: { name: 'x', namespace: 'ns' }, spec: { tier: 'security' } }, POLICY_BRIDGE_LABEL)).toBeUndefined();
    // Without spec.tier Calico reads the tier from the name, up to the first dot.
    const named = (name: string) => calicoPolicyDocOf({ kind: 'GlobalNetworkPolicy', metadata: { name }, spec: {} }, POLICY_BRIDGE_LABEL)?.name;
    expect(named('default.cni-migration-bridge-to-cilium')).toBe('default.cni-migration-bridge-to-cilium');
    expect(named('allow-dns')).toBe('allow-dns');
    expect(named('cni-migration-bridge.to-cilium')).toBeUndefined();
  });
});
