/**
 * Applies manifests by server-side apply in the order that lets references resolve:
 * Namespaces, then CustomResourceDefinitions (waiting until each is Established, so its kind is
 * served), then everything else in file order.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { CustomResourceDefinition, KubeObject } from '../kube/kubeTypes.js';
import { systemClock, throwIfAborted, type Clock } from './clock.js';
import type { Deadline } from './deadline.js';
import { ApplyError } from './opsErrors.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';
import { waitFor } from './waitFor.js';

/** The order of application. */
export interface ManifestOrder {
  namespaces: KubeObject[];
  crds: KubeObject[];
  rest: KubeObject[];
}

/** Splits objects into kubectl-friendly order, keeping file order within each group. */
export function orderManifests(objects: KubeObject[]): ManifestOrder {
  const out: ManifestOrder = { namespaces: [], crds: [], rest: [] };
  for (const o of objects) {
    if (o.kind === 'Namespace' && o.apiVersion === 'v1') out.namespaces.push(o);
    else if (o.kind === 'CustomResourceDefinition' && o.apiVersion?.startsWith('apiextensions.k8s.io/')) out.crds.push(o);
    else out.rest.push(o);
  }
  return out;
}

/** Whether a CRD's Established condition is True, with a status line for progress output. */
export function crdEstablished(crd: CustomResourceDefinition): { done: boolean; status: string } {
  const conds = crd.status?.conditions ?? [];
  const established = conds.find((c) => c.type === 'Established');
  if (established?.status === 'True') return { done: true, status: 'Established' };
  const names = conds.find((c) => c.type === 'NamesAccepted');
  if (names?.status === 'False') return { done: false, status: `names not accepted: ${names.message ?? names.reason ?? ''}` };
  return { done: false, status: established ? `Established=${established.status}${established.message ? `: ${established.message}` : ''}` : 'not Established yet' };
}

/** "Kind namespace/name" for messages. */
export function describeObject(o: KubeObject): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind ?? '?'} ${ns}${o.metadata.name ?? '?'}`;
}

/** Options for applyManifests. */
export interface ApplyManifestsOptions {
  /** Bounds the wait for CRDs to become Established. */
  deadline: Deadline;
  signal?: AbortSignal | undefined;
  /** Poll interval while waiting for CRDs (default 500 ms). */
  intervalMs?: number;
  clock?: Clock;
  events?: EventSink;
}

/** Applies every object (server-side apply) in order; returns what the server stored. */
export async function applyManifests(client: ClusterClient, objects: KubeObject[], opts: ApplyManifestsOptions): Promise<KubeObject[]> {
  const order = orderManifests(objects);
  const events = opts.events ?? ignoreEvents;
  const applied: KubeObject[] = [];
  const applyAll = async (list: KubeObject[]) => {
    for (const o of list) {
      throwIfAborted(opts.signal);
      applied.push(await applyOne(client, o));
      events({ type: 'applied', object: describeObject(o) });
    }
  };
  await applyAll(order.namespaces);
  await applyAll(order.crds);
  for (const crd of order.crds) await waitForCrdEstablished(client, crd.metadata.name ?? '', opts);
  await applyAll(order.rest);
  return applied;
}

/** Waits until the named CRD reports Established=True. */
export function waitForCrdEstablished(client: ClusterClient, name: string, opts: ApplyManifestsOptions): Promise<void> {
  const events = opts.events ?? ignoreEvents;
  const what = `CustomResourceDefinition ${name}`;
  return waitFor(
    `${what} to be Established`,
    async () => {
      let crd: CustomResourceDefinition;
      try {
        crd = await client.getCustomResourceDefinition(name);
      } catch (e) {
        if (isNotFound(e)) return { done: false, status: 'not found yet' };
        throw e;
      }
      const s = crdEstablished(crd);
      return s.done ? { done: true, value: undefined } : { done: false, status: s.status };
    },
    {
      deadline: opts.deadline,
      signal: opts.signal,
      intervalMs: opts.intervalMs ?? 500,
      clock: opts.clock ?? systemClock,
      onStatus: (status) => events({ type: 'waiting', what, status }),
    },
  );
}

async function applyOne(client: ClusterClient, o: KubeObject): Promise<KubeObject> {
  try {
    return await client.applyObject(o);
  } catch (e) {
    throw new ApplyError(describeObject(o), e);
  }
}
