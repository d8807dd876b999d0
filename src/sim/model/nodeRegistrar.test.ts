import { describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../api/resourceRegistry.js';
import { defaultSimulationSettings } from '../simSettings.js';
import { ObjectStore } from '../store/objectStore.js';
import { storeInfoFrom } from '../store/storeInfo.js';
import { InProcessBackend } from './clusterBackend.js';
import { LeaseRenewer, registerNodes } from './nodeRegistrar.js';

describe('registerNodes', () => {
  it('creates missing nodes, keeps existing ones (and their labels), and posts status', async () => {
    const store = new ObjectStore(storeInfoFrom(new ResourceRegistry()));
    const backend = new InProcessBackend(store);
    store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'b', labels: { keep: 'me' } }, spec: { podCIDR: '10.244.77.0/24' } });
    await registerNodes(backend, defaultSimulationSettings(), ['a', 'b']);
    await registerNodes(backend, defaultSimulationSettings(), ['a', 'b']);
    expect(store.list('nodes').items.map((n) => n.metadata.name)).toEqual(['a', 'b']);
    const b = store.get('nodes', undefined, 'b')!;
    // A kubelet adds its own labels to a node object created ahead of it, and keeps the others.
    expect(b.metadata.labels).toEqual({ keep: 'me', 'kubernetes.io/hostname': 'b', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64' });
    expect(b.spec.podCIDR).toBe('10.244.77.0/24');
    expect(b.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual(['NetworkUnavailable=False', 'MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
    expect(store.get('nodes', undefined, 'a')!.spec.podCIDR).toBe('10.244.0.0/24');
  });
});

describe('LeaseRenewer', () => {
  it('creates leases owned by their nodes and renews them', async () => {
    const store = new ObjectStore(storeInfoFrom(new ResourceRegistry()));
    const backend = new InProcessBackend(store);
    await registerNodes(backend, defaultSimulationSettings(), ['a']);
    const renewer = new LeaseRenewer(backend, ['a'], { intervalMs: 20 });
    await renewer.start();
    const first = store.get('coordination.k8s.io/leases', 'kube-node-lease', 'a')!;
    expect(first.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 40 });
    expect(first.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(first.metadata.ownerReferences).toMatchObject([{ kind: 'Node', name: 'a', uid: store.get('nodes', undefined, 'a')!.metadata.uid }]);
    const deadline = Date.now() + 5000;
    while (store.get('coordination.k8s.io/leases', 'kube-node-lease', 'a')!.spec.renewTime === first.spec.renewTime && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    renewer.stop();
    expect(store.get('coordination.k8s.io/leases', 'kube-node-lease', 'a')!.spec.renewTime).not.toBe(first.spec.renewTime);
  });
});
