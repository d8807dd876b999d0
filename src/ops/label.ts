/** Node labels by merge patch: a value sets a label, null removes it. */
import type { ClusterClient } from '../kube/clusterClient.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';

/** The subset of `desired` that changes `current`, or undefined when nothing would change. */
export function labelChanges(current: Record<string, string> | undefined, desired: Record<string, string | null>): Record<string, string | null> | undefined {
  const have = current ?? {};
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(desired)) {
    if (v === null ? k in have : have[k] !== v) out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Sets and removes node labels in one merge patch; reads first so a finished change is a no-op. */
export async function labelNode(
  client: ClusterClient,
  node: string,
  labels: Record<string, string | null>,
  events: EventSink = ignoreEvents,
): Promise<{ changed: boolean }> {
  const current = await client.getNode(node);
  const changes = labelChanges(current.metadata.labels, labels);
  if (changes) await client.patchNode(node, { metadata: { labels: changes } });
  events({ type: 'labels', node, labels, changed: changes !== undefined });
  return { changed: changes !== undefined };
}
