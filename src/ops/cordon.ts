/**
 * Cordon and uncordon, as kubectl's pkg/drain CordonHelper — without its GET first: the merge patch
 * is idempotent (the API server stores nothing when it changes nothing), and on a large cluster a
 * read per node and action is a request budget spent for nothing.
 */
import type { ClusterClient, MergePatch } from '../kube/clusterClient.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';

/** The merge patch that makes `spec.unschedulable` equal `desired`; uncordon removes the field (kubectl's patch sends null), as a fresh node has it. */
export function cordonPatch(desired: boolean): MergePatch {
  return { spec: { unschedulable: desired ? true : null } };
}

/** Marks the node unschedulable. */
export function cordonNode(client: ClusterClient, node: string, events: EventSink = ignoreEvents): Promise<void> {
  return setUnschedulable(client, node, true, events);
}

/** Marks the node schedulable again. */
export function uncordonNode(client: ClusterClient, node: string, events: EventSink = ignoreEvents): Promise<void> {
  return setUnschedulable(client, node, false, events);
}

async function setUnschedulable(client: ClusterClient, name: string, desired: boolean, events: EventSink): Promise<void> {
  await client.patchNode(name, cordonPatch(desired));
  events({ type: 'cordon', node: name, unschedulable: desired });
}
