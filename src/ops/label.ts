/**
 * Node labels by merge patch: a value sets a label, null removes it. No read first: the patch is
 * idempotent (removing an absent label, or setting one to the value it has, stores nothing), and
 * on a large cluster a read per node and action is a request budget spent for nothing.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';

/** Sets and removes node labels in one merge patch. */
export async function labelNode(client: ClusterClient, node: string, labels: Record<string, string | null>, events: EventSink = ignoreEvents): Promise<void> {
  await client.patchNode(node, { metadata: { labels } });
  events({ type: 'labels', node, labels });
}
