import { applyDefaults } from '../../api/defaults.js';
import { ResourceRegistry } from '../../api/resourceRegistry.js';
import { defaultSimulationSettings, SettingsHolder } from '../../simSettings.js';
import type { KubeObject } from '../../store/kubeObject.js';
import { ObjectStore } from '../../store/objectStore.js';
import { storeInfoFrom } from '../../store/storeInfo.js';
import type { Controller, ControllerContext } from '../controller.js';
import type { Taint } from '../tolerations.js';
import { FakeKubelet } from './fakeKubelet.js';

/** A store, a controller context and a fake kubelet for controller tests. */
export interface ControllerFixture {
  store: ObjectStore;
  ctx: ControllerContext;
  kubelet: FakeKubelet;
  /** Creates an object as the API server would (defaults applied). */
  create(resource: string, obj: KubeObject): KubeObject;
  /** Stops everything; throws if a controller tried to change an object the store handed out (they are frozen). */
  stop(): void;
}

// V8's TypeErrors for writes to a frozen object or array.
const FROZEN_WRITE = /read only property|object is not extensible|Cannot delete property/;

/** Starts the given controllers (built from the context) over a fresh store with a `default` namespace. */
export function startFixture(build: (ctx: ControllerContext) => Controller[], opts: { kubelet?: boolean } = {}): ControllerFixture {
  const registry = new ResourceRegistry();
  const store = new ObjectStore(storeInfoFrom(registry));
  const frozenWrites: string[] = [];
  // The work queue logs a reconcile's error and retries: without this, a controller writing to a
  // stored object would only log, and the tests would pass.
  const log = (message: string) => {
    if (FROZEN_WRITE.test(message)) frozenWrites.push(message);
  };
  const ctx: ControllerContext = { store, registry, settings: new SettingsHolder(defaultSimulationSettings()), log };
  const create = (resource: string, obj: KubeObject) => {
    const copy = structuredClone(obj);
    applyDefaults(copy, { creating: true });
    return store.create(resource, copy);
  };
  create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const controllers = build(ctx);
  for (const c of controllers) c.start();
  const kubelet = new FakeKubelet(store);
  if (opts.kubelet !== false) kubelet.start();
  return {
    store,
    ctx,
    kubelet,
    create,
    stop: () => {
      kubelet.stop();
      for (const c of controllers) c.stop();
      if (frozenWrites.length) throw new Error(`a controller changed a frozen store object: ${frozenWrites.join('; ')}`);
    },
  };
}

/** A Ready node with optional labels, taints and cordon. */
export function makeNode(name: string, opts: { labels?: Record<string, string>; taints?: Taint[]; unschedulable?: boolean; ready?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

/** A DaemonSet selecting app=<name>. */
export function makeDaemonSet(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'example/agent:1' }], ...podSpec } },
      ...spec,
    },
  };
}

/** A Deployment selecting app=<name>. */
export function makeDeployment(name: string, replicas: number, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'example/web:1', ports: [{ name: 'http', containerPort: 8080 }] }] } },
      ...spec,
    },
  };
}

/** Pods of a namespace as a list (copies). */
export function podsIn(store: ObjectStore, namespace = 'default'): KubeObject[] {
  return store.list('pods', namespace).items;
}
