import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseManifestDocuments } from '../../kube/manifestParser.js';
import type { KubeObject } from '../store/kubeObject.js';
import { startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';
import { autodetectionEnv, renderedTemplate, TigeraOperatorEmulation } from './tigeraOperatorEmulation.js';

// The Tigera operator emulation: pure rendering rules, then the controller over the in-process
// store with the stock operator install's objects (scenarios/sources/calico-operator-v3.31.yaml).

const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'scenarios', 'sources', 'calico-operator-v3.31.yaml');
const objects = parseManifestDocuments(readFileSync(FIXTURE, 'utf8'), FIXTURE).map((d) => d.value as unknown as KubeObject);
const find = (kind: string, namespace: string | undefined, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === namespace);
  if (!o) throw new Error(`fixture has no ${kind} ${namespace ?? ''}/${name}`);
  return structuredClone(o);
};

const INSTALLATIONS = 'operator.tigera.io/installations';
const PIN = { 'cni-migration.dev/calico': 'true' };

type Container = { name: string; env?: { name: string; value?: string }[] };
const containersOf = (t: { spec?: { containers?: Container[] } }) => t.spec?.containers ?? [];
const envOf = (t: { spec?: { containers?: Container[] } }, container: string, name: string) => containersOf(t).find((c) => c.name === container)?.env?.find((e) => e.name === name)?.value;

describe('autodetectionEnv', () => {
  it('renders nodeAddressAutodetectionV4 as calico-node\'s IP_AUTODETECTION_METHOD', () => {
    expect(autodetectionEnv(undefined)).toBe('first-found');
    expect(autodetectionEnv({ firstFound: true })).toBe('first-found');
    expect(autodetectionEnv({ kubernetes: 'NodeInternalIP' })).toBe('kubernetes-internal-ip');
    expect(autodetectionEnv({ interface: 'eth.*' })).toBe('interface=eth.*');
    expect(autodetectionEnv({ skipInterface: 'docker.*' })).toBe('skip-interface=docker.*');
    expect(autodetectionEnv({ canReach: '10.0.0.1' })).toBe('can-reach=10.0.0.1');
    expect(autodetectionEnv({ cidrs: ['10.0.0.0/16', '10.1.0.0/16'] })).toBe('cidr=10.0.0.0/16,10.1.0.0/16');
  });
});

describe('renderedTemplate', () => {
  const baseline = find('DaemonSet', 'calico-system', 'calico-node').spec.template as Parameters<typeof renderedTemplate>[0];
  const installation = find('Installation', undefined, 'default');

  it('is the baseline itself for the stock Installation', () => {
    expect(envOf(baseline, 'calico-node', 'IP_AUTODETECTION_METHOD')).toBe('first-found');
    expect(renderedTemplate(baseline, installation)).toEqual(baseline);
  });

  it('merges the nodeSelector override and sets IP_AUTODETECTION_METHOD, without touching the baseline', () => {
    const before = structuredClone(baseline);
    const inst = structuredClone(installation);
    inst.spec = {
      ...inst.spec,
      calicoNodeDaemonSet: { spec: { template: { spec: { nodeSelector: PIN } } } },
      calicoNetwork: { ...inst.spec.calicoNetwork, nodeAddressAutodetectionV4: { kubernetes: 'NodeInternalIP' } },
    };
    const t = renderedTemplate(baseline, inst);
    expect(t.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', ...PIN });
    expect(envOf(t, 'calico-node', 'IP_AUTODETECTION_METHOD')).toBe('kubernetes-internal-ip');
    expect(baseline).toEqual(before);
    // Only calico-node's env changes; no variable is added where the baseline has none.
    const other = { spec: { containers: [{ name: 'calico-node', env: [{ name: 'IP', value: 'autodetect' }] }, { name: 'side', env: [{ name: 'IP_AUTODETECTION_METHOD', value: 'keep' }] }] } };
    const r = renderedTemplate(other, inst);
    expect(containersOf(r)).toEqual([{ name: 'calico-node', env: [{ name: 'IP', value: 'autodetect' }] }, { name: 'side', env: [{ name: 'IP_AUTODETECTION_METHOD', value: 'keep' }] }]);
    expect(r.spec?.nodeSelector).toEqual(PIN);
  });
});

// The controller over the in-process store.

let fx: ControllerFixture;

const ds = () => fx.store.get('apps/daemonsets', 'calico-system', 'calico-node');
const selector = () => ds()?.spec.template.spec.nodeSelector as Record<string, string> | undefined;
const autodetect = () => envOf(ds()!.spec.template, 'calico-node', 'IP_AUTODETECTION_METHOD');

/** Lets the controller's work queue run everything queued so far (it processes on a later macrotask). */
async function drainQueue(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function setOperatorAvailable(available: boolean): void {
  fx.store.mutate('apps/deployments', 'tigera-operator', 'tigera-operator', (d) => {
    d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation, replicas: 1, readyReplicas: available ? 1 : 0, availableReplicas: available ? 1 : 0 };
  }, { part: 'status' });
}

function patchInstallation(edit: (spec: Record<string, any>) => void): void {
  fx.store.mutate(INSTALLATIONS, undefined, 'default', (o) => {
    o.spec = structuredClone(o.spec ?? {});
    edit(o.spec);
  });
}

function editDaemonSet(edit: (template: any) => void): void {
  fx.store.mutate('apps/daemonsets', 'calico-system', 'calico-node', (o) => {
    edit(o.spec.template);
  });
}

/** The stock operator install: operator Deployment, Installation, and what it rendered into calico-system. */
function startOperatorCluster(opts: { operatorAvailable?: boolean } = {}): void {
  fx = startFixture((ctx) => [new TigeraOperatorEmulation(ctx)], { kubelet: false });
  for (const ns of ['tigera-operator', 'calico-system']) fx.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  fx.create('apps/deployments', find('Deployment', 'tigera-operator', 'tigera-operator'));
  if (opts.operatorAvailable !== false) setOperatorAvailable(true);
  fx.create(INSTALLATIONS, find('Installation', undefined, 'default'));
  fx.create('configmaps', find('ConfigMap', 'calico-system', 'cni-config'));
  fx.create('apps/daemonsets', find('DaemonSet', 'calico-system', 'calico-node'));
  fx.create('apps/deployments', find('Deployment', 'calico-system', 'calico-typha'));
  fx.create('apps/deployments', find('Deployment', 'calico-system', 'calico-kube-controllers'));
}

describe('TigeraOperatorEmulation', () => {
  afterEach(() => fx.stop());

  it('leaves the rendered DaemonSet alone while the Installation asks for nothing else', async () => {
    startOperatorCluster();
    const before = ds()!;
    await drainQueue();
    expect(ds()!.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(selector()).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('renders a nodeSelector override of the Installation into calico-node, and drops it again', async () => {
    startOperatorCluster();
    const generation = ds()!.metadata.generation!;
    patchInstallation((s) => (s.calicoNodeDaemonSet = { spec: { template: { spec: { nodeSelector: PIN } } } }));
    await waitFor(() => selector()?.['cni-migration.dev/calico'] === 'true', 5000, 'pin in the DaemonSet');
    expect(selector()).toEqual({ 'kubernetes.io/os': 'linux', ...PIN });
    expect(ds()!.metadata.generation).toBeGreaterThan(generation);
    patchInstallation((s) => delete s.calicoNodeDaemonSet);
    await waitFor(() => selector()?.['cni-migration.dev/calico'] === undefined, 5000, 'pin removed');
    expect(selector()).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('renders nodeAddressAutodetectionV4 into IP_AUTODETECTION_METHOD', async () => {
    startOperatorCluster();
    expect(autodetect()).toBe('first-found');
    patchInstallation((s) => (s.calicoNetwork = { ...s.calicoNetwork, nodeAddressAutodetectionV4: { canReach: '10.0.0.1' } }));
    await waitFor(() => autodetect() === 'can-reach=10.0.0.1', 5000, 'autodetection method rendered');
  });

  it('reverts a direct edit of the DaemonSet (nodeSelector and env) to its rendering', async () => {
    startOperatorCluster();
    await drainQueue();
    editDaemonSet((t) => {
      t.spec.nodeSelector = { 'kubernetes.io/os': 'linux', 'edited-by': 'hand' };
      t.spec.containers.find((c: Container) => c.name === 'calico-node').env.find((e: { name: string }) => e.name === 'IP_AUTODETECTION_METHOD').value = 'interface=eth9';
    });
    await waitFor(() => selector()?.['edited-by'] === undefined && autodetect() === 'first-found', 5000, 'direct edit reverted');
    expect(selector()).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('does nothing while the operator Deployment is unavailable, and catches up once it is available', async () => {
    startOperatorCluster({ operatorAvailable: false });
    await drainQueue();
    editDaemonSet((t) => (t.spec.nodeSelector = { 'edited-by': 'hand' }));
    patchInstallation((s) => (s.calicoNetwork = { ...s.calicoNetwork, nodeAddressAutodetectionV4: { kubernetes: 'NodeInternalIP' } }));
    await drainQueue();
    expect(selector()).toEqual({ 'edited-by': 'hand' });
    expect(autodetect()).toBe('first-found');
    setOperatorAvailable(true);
    await waitFor(() => selector()?.['edited-by'] === undefined && autodetect() === 'kubernetes-internal-ip', 5000, 'operator caught up');
    expect(selector()).toEqual({ 'kubernetes.io/os': 'linux' });
    // Once the operator is gone (deleted, as a migration does at the end), edits stay.
    fx.store.delete('apps/deployments', 'tigera-operator', 'tigera-operator');
    editDaemonSet((t) => (t.spec.nodeSelector = { 'edited-by': 'hand' }));
    await drainQueue();
    expect(selector()).toEqual({ 'edited-by': 'hand' });
  });

  it('tears calico-system down when the Installation is deleted', async () => {
    startOperatorCluster();
    await drainQueue();
    fx.store.delete(INSTALLATIONS, undefined, 'default');
    await waitFor(() => !ds(), 5000, 'calico-node deleted');
    await waitFor(() => fx.store.list('apps/deployments', 'calico-system').items.length === 0, 5000, 'calico-system deployments deleted');
    expect(fx.store.get('apps/deployments', 'tigera-operator', 'tigera-operator')).toBeDefined();
  });

  it('tears nothing down while the operator is unavailable, then does once it runs again', async () => {
    startOperatorCluster();
    await drainQueue();
    setOperatorAvailable(false);
    fx.store.delete(INSTALLATIONS, undefined, 'default');
    await drainQueue();
    expect(ds()).toBeDefined();
    expect(fx.store.list('apps/deployments', 'calico-system').items.map((d) => d.metadata.name).sort()).toEqual(['calico-kube-controllers', 'calico-typha']);
    setOperatorAvailable(true);
    await waitFor(() => !ds(), 5000, 'calico-node deleted');
  });

  it('never tears down a calico-system that had no Installation to begin with', async () => {
    fx = startFixture((ctx) => [new TigeraOperatorEmulation(ctx)], { kubelet: false });
    for (const ns of ['tigera-operator', 'calico-system']) fx.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    fx.create('apps/deployments', find('Deployment', 'tigera-operator', 'tigera-operator'));
    setOperatorAvailable(true);
    fx.create('apps/daemonsets', find('DaemonSet', 'calico-system', 'calico-node'));
    editDaemonSet((t) => (t.spec.nodeSelector = { 'edited-by': 'hand' }));
    await drainQueue();
    expect(ds()).toBeDefined();
    expect(selector()).toEqual({ 'edited-by': 'hand' });
  });
});
