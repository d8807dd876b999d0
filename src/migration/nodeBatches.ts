/**
 * Which nodes of a per-node step go at once. The rules are named pure functions with verdicts as
 * data (as src/ops/drainFilters.ts): a node joins the open batch only if every rule lets it, and
 * the first refusal is kept so `plan` can say why two nodes were not taken together.
 *
 *   - size:    at most maxUnavailable nodes are out of service at once;
 *   - zone:    one zone at a time (topology.kubernetes.io/zone), so a zone outage budget holds;
 *   - budget:  two nodes whose drains would compete for one PodDisruptionBudget's allowed
 *              disruptions never share a batch (the second drain would only wait on 429s, with
 *              its node cordoned);
 *   - role:    control-plane nodes go last, after every worker, so a failure there is met with
 *              the API server already proven on the migrated datapath.
 */

/** Node labels that mark a control-plane node (kubeadm's current and older ones). */
export const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'] as const;

/** A node as batching sees it. */
export interface BatchNode {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Pods a drain of this node would evict, per PodDisruptionBudget ("namespace/name"). */
  budgetPods?: Readonly<Record<string, number>> | undefined;
}

/** The settings batching follows. */
export interface BatchRules {
  /** Nodes out of service at once (already resolved from N or P%). */
  maxUnavailable: number;
  /** Label naming a node's zone; nodes without it form one group of their own. */
  zoneLabel: string;
  /** The first node goes alone and the run pauses after it. */
  canary: boolean;
  /** The first `alone` nodes of the order go one at a time (a strategy's reason, e.g. dual-overlay's first node). */
  alone?: number | undefined;
  /** Disruptions each PodDisruptionBudget allows now ("namespace/name" → status.disruptionsAllowed). */
  budgets?: Readonly<Record<string, number>> | undefined;
  /** Keep the given order (the user named the nodes): batches take consecutive nodes only. */
  keepOrder?: boolean | undefined;
  /**
   * Where drained pods may only go to nodes already done (dual-overlay taints the others): the
   * nodes done before the step. A batch then has at most as many nodes as are done before it, so
   * one node's capacity never receives the pods of ten (batches grow 1, 2, 4, … up to the limit).
   */
  receivers?: number | undefined;
}

/** One batch: nodes worked on at once. */
export interface NodeBatch {
  nodes: string[];
  /** The zone its nodes are in ('' when they carry no zone label). */
  zone: string;
  controlPlane: boolean;
  /** The canary: the run pauses after it. */
  canary: boolean;
  /** Why the batch has fewer nodes than allowed, when a rule (not the end of its group) cut it. */
  cut?: string | undefined;
}

/** A rule's answer for a node that would join a batch. */
export type JoinVerdict = { join: true } | { join: false; rule: 'size' | 'zone' | 'role' | 'budget'; reason: string };

/** A batch being filled. */
interface OpenBatch {
  nodes: BatchNode[];
  zone: string;
  controlPlane: boolean;
  limit: number;
}

/** One named rule. */
export interface BatchRule {
  name: string;
  judge(batch: OpenBatch, node: BatchNode, rules: BatchRules): JoinVerdict;
}

const JOIN: JoinVerdict = { join: true };

/** Whether a node is a control-plane node (by kubeadm's role labels). */
export function isControlPlaneNode(n: { labels: Readonly<Record<string, string>> }): boolean {
  return CONTROL_PLANE_LABELS.some((l) => l in n.labels);
}

/** A node's zone ('' when it has none). */
export function zoneOf(n: { labels: Readonly<Record<string, string>> }, zoneLabel: string): string {
  return n.labels[zoneLabel] ?? '';
}

/** size: the batch is full. */
export const sizeRule: BatchRule = {
  name: 'size',
  judge: (b) => (b.nodes.length < b.limit ? JOIN : { join: false, rule: 'size', reason: `the batch is full (${b.limit})` }),
};

/** zone: a batch stays within one zone. */
export const zoneRule: BatchRule = {
  name: 'zone',
  judge: (b, n, r) => {
    const z = zoneOf(n, r.zoneLabel);
    return z === b.zone ? JOIN : { join: false, rule: 'zone', reason: `${n.name} is in zone ${z || '(none)'}, the batch in ${b.zone || '(none)'}` };
  },
};

/** role: control-plane nodes and workers never share a batch. */
export const roleRule: BatchRule = {
  name: 'role',
  judge: (b, n) => (isControlPlaneNode(n) === b.controlPlane ? JOIN : { join: false, rule: 'role', reason: `${n.name} is ${isControlPlaneNode(n) ? 'a control-plane node' : 'a worker'}` }),
};

/** budget: the batch's drains together stay within each shared PodDisruptionBudget's allowed disruptions. */
export const budgetRule: BatchRule = {
  name: 'budget',
  judge(b, n, r) {
    for (const [pdb, pods] of Object.entries(n.budgetPods ?? {})) {
      if (pods <= 0) continue;
      const sharing = b.nodes.filter((m) => (m.budgetPods?.[pdb] ?? 0) > 0);
      if (!sharing.length) continue;
      const together = pods + sharing.reduce((sum, m) => sum + (m.budgetPods?.[pdb] ?? 0), 0);
      const allowed = r.budgets?.[pdb] ?? 0;
      if (together > allowed) {
        return { join: false, rule: 'budget', reason: `${n.name} and ${sharing.map((m) => m.name).join(', ')} run ${together} pods of PodDisruptionBudget ${pdb}, which allows ${allowed} disruption${allowed === 1 ? '' : 's'} now` };
      }
    }
    return JOIN;
  },
};

/** The rules in the order they are asked. */
export const BATCH_RULES: readonly BatchRule[] = [sizeRule, roleRule, zoneRule, budgetRule];

/** The first refusal of the rules, or join. */
export function joinVerdict(batch: OpenBatch, node: BatchNode, rules: BatchRules): JoinVerdict {
  for (const rule of BATCH_RULES) {
    const v = rule.judge(batch, node, rules);
    if (!v.join) return v;
  }
  return JOIN;
}

/** "N" or "P%" of the cluster's nodes (rounded down, at least 1), as a DaemonSet's maxUnavailable. */
export function resolveMaxUnavailable(value: string | number, clusterNodes: number): number {
  const text = String(value).trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) {
    const p = Number(percent[1]);
    if (p <= 0 || p > 100) throw new RangeError(`maxUnavailable "${text}": a percentage must be above 0% and at most 100%`);
    return Math.max(1, Math.floor((clusterNodes * p) / 100));
  }
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new RangeError(`maxUnavailable "${text}": use a whole number of nodes (1 or more) or a percentage such as 10%`);
  return Number(text);
}

/**
 * The order batching takes the nodes in: workers before control-plane nodes, and within each, zone
 * by zone in the order each zone first appears (the strategy's order otherwise kept).
 */
export function batchOrder<N extends BatchNode>(nodes: readonly N[], zoneLabel: string): N[] {
  const out: N[] = [];
  for (const cp of [false, true]) {
    const group = nodes.filter((n) => isControlPlaneNode(n) === cp);
    const zones = [...new Set(group.map((n) => zoneOf(n, zoneLabel)))];
    for (const z of zones) out.push(...group.filter((n) => zoneOf(n, zoneLabel) === z));
  }
  return out;
}

/**
 * Cuts ordered nodes into batches. The canary and the strategy's `alone` nodes go one at a time;
 * then each batch takes, in order, the nodes every rule lets join (a node refused by the budget
 * rule waits for a later batch of its group; with keepOrder the batch ends at the first refusal).
 */
export function planBatches(nodes: readonly BatchNode[], rules: BatchRules): NodeBatch[] {
  const max = Math.max(1, Math.floor(rules.maxUnavailable));
  const rest = rules.keepOrder ? [...nodes] : batchOrder(nodes, rules.zoneLabel);
  const batches: NodeBatch[] = [];
  const solo = Math.max(rules.alone ?? 0, rules.canary ? 1 : 0);
  for (let i = 0; i < solo && rest.length; i++) {
    const n = rest.shift()!;
    batches.push({ nodes: [n.name], zone: zoneOf(n, rules.zoneLabel), controlPlane: isControlPlaneNode(n), canary: rules.canary && i === 0 });
  }
  while (rest.length) {
    const done = batches.reduce((sum, b) => sum + b.nodes.length, 0) + (rules.receivers ?? 0);
    const limit = rules.receivers === undefined ? max : Math.max(1, Math.min(max, done));
    const first = rest.shift()!;
    const open: OpenBatch = { nodes: [first], zone: zoneOf(first, rules.zoneLabel), controlPlane: isControlPlaneNode(first), limit };
    let cut: string | undefined;
    for (let i = 0; i < rest.length && open.nodes.length < limit; ) {
      const v = joinVerdict(open, rest[i]!, rules);
      if (v.join) {
        open.nodes.push(...rest.splice(i, 1));
        continue;
      }
      // Zone and role end the group (nodes are grouped by both); a budget refusal skips one node.
      if (v.rule !== 'budget' || rules.keepOrder) {
        if (v.rule === 'budget') cut = v.reason;
        break;
      }
      cut ??= v.reason;
      i++;
    }
    if (!cut && open.nodes.length === limit && limit < max && rest.length) {
      cut = `${done} node${done === 1 ? ' is' : 's are'} done to take the pods its drains move (the others are tainted): batches grow as nodes are done`;
    }
    batches.push({ nodes: open.nodes.map((n) => n.name), zone: open.zone, controlPlane: open.controlPlane, canary: false, ...(cut && open.nodes.length < max ? { cut } : {}) });
  }
  return batches;
}
