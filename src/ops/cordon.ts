/** Cordon and uncordon, as kubectl's pkg/drain CordonHelper: skip when already so. */
import type { ClusterClient, MergePatch } from '../kube/clusterClient.js';
import type { Node } from '../kube/kubeTypes.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';

/**
 * The merge patch that makes `node.spec.unschedulable` equal `desired`, or undefined when it
 * already does. Uncordon removes the field (kubectl's patch sends null), as a fresh node has it.
 */
export function cordonPatch(node: Node, desired: boolean): MergePatch | undefined {
  if ((node.spec?.unschedulable ?? false) === desired) return undefined;
  return { spec: { unschedulable: desired ? true : null } };
}

/** Marks the node unschedulable (no-op when it already is). */
export function cordonNode(client: ClusterClient, node: string, events: EventSink = ignoreEvents): Promise<{ changed: boolean }> {
  return setUnschedulable(client, node, true, events);
}

/** Marks the node schedulable again (no-op when it already is). */
export function uncordonNode(client: ClusterClient, node: string, events: EventSink = ignoreEvents): Promise<{ changed: boolean }> {
  return setUnschedulable(client, node, false, events);
}

async function setUnschedulable(client: ClusterClient, name: string, desired: boolean, events: EventSink): Promise<{ changed: boolean }> {
  const patch = cordonPatch(await client.getNode(name), desired);
  if (patch) await client.patchNode(name, patch);
  events({ type: 'cordon', node: name, unschedulable: desired, changed: patch !== undefined });
  return { changed: patch !== undefined };
}
