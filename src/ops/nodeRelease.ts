/**
 * A node handed back to the scheduler at the end of its step — a taint removed, the cordon lifted
 * and the labels that record the step — in one write. Three patches would cost three requests per
 * node and leave a window where an interrupted run sees a node uncordoned but not recorded.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import { ignoreEvents } from './opsEvents.js';
import { taintsWithout, updateTaints, type TaintOptions, type TaintSelector } from './taint.js';

export interface NodeRelease {
  /** The taint to remove (no write of the taint list when the node does not carry it). */
  untaint: TaintSelector;
  /** Labels to set (null removes one). */
  labels: Record<string, string | null>;
}

/** Removes the taint, uncordons the node and sets the labels in one patch (a GET first: taints have no merge key). */
export async function releaseNode(client: ClusterClient, node: string, release: NodeRelease, opts: TaintOptions = {}): Promise<void> {
  const events = opts.events ?? ignoreEvents;
  const r = await updateTaints(client, node, (cur) => taintsWithout(cur, release.untaint), opts, { also: { unschedulable: false, labels: release.labels } });
  events({ type: 'taint', node, action: 'remove', key: release.untaint.key, effect: release.untaint.effect, changed: r.changed });
  events({ type: 'cordon', node, unschedulable: false });
  events({ type: 'labels', node, labels: release.labels });
}
