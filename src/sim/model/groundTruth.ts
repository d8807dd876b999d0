import { intendedAllowed, judgePolicy, judgeReach, policyClassKey, type NetworkProfile, type PodPolicyFacts, type PodSide, type PolicyContext } from './reachability.js';

// The ground truth: which ordered pairs of running, non-hostNetwork pods cannot reach each other's
// primary IP right now although their NetworkPolicies allow it ("cut"), and which can although the
// policies deny it ("opened"), logged whenever either set changes. Without policies every pair is
// allowed, so "cut" is plain unreachability. A 1000-node cluster has ~10^9 pairs, so
// pods are grouped into classes whose key holds everything the verdict depends on (primary network,
// interface networks, each of those networks' profile on the pod's node); the verdict for two
// classes then depends only on the two keys and whether the pods share a node. An evaluation only
// looks at pods whose key changed (reported through markDirty hints): every pair involving one of
// them is judged before and after, by class and per-node counts, and the unreachable total is kept
// from those counts. Pairs are only enumerated to list up to `cap` of them.

/** Everything the verdict for a pod depends on, apart from its node's identity. */
export interface ReachClass {
  /** Equal for pods that behave identically. */
  key: string;
  primary: string;
  networks: ReadonlySet<string>;
  /** Profile on the pod's node of each network it has an interface on, and of the networks bridging there. */
  profiles: ReadonlyMap<string, NetworkProfile>;
  /** Networks up on the pod's node that route for every pod. */
  bridges: readonly string[];
  /** What policies read of the pod, and the policies in force when the class was made (part of the key when any exist). */
  policy?: PodPolicyFacts;
  policies?: PolicyContext;
}

/** A running, non-hostNetwork pod as the ground truth sees it. */
export interface GroundTruthPod {
  /** Stable identity (the pod's uid). */
  id: string;
  /** "namespace/name". */
  label: string;
  node: string;
  cls: ReachClass;
}

/** One pair that cannot reach the other's primary IP although allowed ("cut"), or can although denied ("opened"). */
export interface UnreachablePair {
  from: string;
  to: string;
  network: string;
  reason: string;
  /** Present for pairs the policies deny that can connect. */
  kind?: 'opened';
}

/** A change of the unreachable set. */
export interface GroundTruthEntry {
  at: string;
  /** Pairs allowed by the policies (all pairs, without policies) that cannot connect. */
  unreachableCount: number;
  /** Pairs denied by the policies that can connect. */
  openedCount: number;
  addedCount: number;
  removedCount: number;
  /** Up to `cap` pairs that became unreachable. */
  added: UnreachablePair[];
  /** Up to `cap` pairs that became reachable again (or whose pods went away). */
  removed: UnreachablePair[];
}

/** The state now. */
export interface GroundTruthCurrent {
  at: string;
  unreachableCount: number;
  openedCount: number;
  /** Up to `cap` of the unreachable pairs. */
  pairs: UnreachablePair[];
}

/** Where the log reads pods from. */
export interface GroundTruthSource {
  /** Every running, non-hostNetwork pod. */
  all(): Iterable<GroundTruthPod>;
  /** One pod, if it is running and not hostNetwork. */
  pod(id: string): GroundTruthPod | undefined;
  /** Ids of the pods bound to a node (running or not). */
  idsOnNode(node: string): Iterable<string>;
}

/** What changed: one pod, everything on one node (its CNI state), or anything (the firewall). */
export type GroundTruthHint = { pod: string } | { node: string } | 'all';

/** Builds the key of a class from its parts. */
export function reachClassOf(
  primary: string,
  networks: ReadonlySet<string>,
  profiles: ReadonlyMap<string, NetworkProfile>,
  profileKey: (p: NetworkProfile) => string,
  policy?: { facts: PodPolicyFacts; ctx: PolicyContext },
): ReachClass {
  const parts = [...profiles.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, p]) => `${networks.has(n) ? '' : '+'}${n}=${profileKey(p)}`);
  const bridges = [...profiles.entries()].filter(([, p]) => p.up && p.bridges).map(([n]) => n).sort();
  const key = `${primary}|${parts.join(';')}${policyClassKey(policy?.ctx, policy?.facts)}`;
  return { key, primary, networks, profiles, bridges, ...(policy ? { policy: policy.facts, policies: policy.ctx } : {}) };
}

function sideOf(c: ReachClass): PodSide {
  return { networks: c.networks, profile: (n) => c.profiles.get(n) ?? DOWN, bridges: c.bridges, ...(c.policy ? { policy: c.policy } : {}) };
}

interface PodEntry {
  id: string;
  label: string;
  node: string;
  key: string;
}

/** Pods sharing the same key before and after an evaluation (static) or the same (before, after) pair (transition). */
interface Group {
  oldKey?: string;
  newKey?: string;
  size: number;
  byNode: Map<string, Set<PodEntry>>;
}

type Verdict = { network: string; reason: string; opened?: true } | undefined;

const DOWN: NetworkProfile = { up: false, conflictsWith: [], blocked: false };

/** The ground-truth log: evaluated at most once per macrotask after changes are reported. */
export class GroundTruthLog {
  private readonly prev = new Map<string, PodEntry>();
  private readonly groups = new Map<string, Group>();
  private readonly onNode = new Map<string, Set<string>>();
  private readonly classes = new Map<string, ReachClass>();
  private readonly memo = new Map<string, Verdict | null>();
  private log: GroundTruthEntry[] = [];
  private unreachable = 0;
  private opened = 0;
  private evaluatedAt = new Date().toISOString();
  private scheduled: NodeJS.Immediate | undefined;
  private dirtyAll = true;
  private readonly dirtyPods = new Set<string>();
  private readonly dirtyNodes = new Set<string>();
  private readonly cap: number;
  private readonly maxEntries: number;

  constructor(
    private readonly source: GroundTruthSource,
    opts: { cap?: number; maxEntries?: number } = {},
  ) {
    this.cap = opts.cap ?? 200;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Something changed: re-evaluate once the current macrotask's changes are all in. */
  markDirty(hint: GroundTruthHint = 'all'): void {
    if (hint === 'all') this.dirtyAll = true;
    else if ('pod' in hint) this.dirtyPods.add(hint.pod);
    else this.dirtyNodes.add(hint.node);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.evaluate();
    });
  }

  /** Evaluates the changes reported so far; returns the entry appended, if the set changed. */
  evaluate(): GroundTruthEntry | undefined {
    const changes = this.collectChanges();
    this.evaluatedAt = new Date().toISOString();
    if (!changes.length) return undefined;
    const transitions = new Map<string, Group>();
    for (const [oldEntry, newEntry] of changes) {
      if (oldEntry) this.removeEntry(oldEntry);
      addTo(transitions, `${oldEntry?.key ?? ''}\u0001${newEntry?.key ?? ''}`, oldEntry?.key, newEntry?.key, newEntry ?? oldEntry!);
    }
    const entry = this.diff([...this.groups.values()], [...transitions.values()]);
    for (const [oldEntry, newEntry] of changes) {
      if (newEntry) this.addEntry(newEntry);
      else this.prev.delete(oldEntry!.id);
    }
    this.prune();
    if (entry.addedCount === 0 && entry.removedCount === 0) return undefined;
    this.log.push(entry);
    if (this.log.length > this.maxEntries) this.log.splice(0, this.log.length - this.maxEntries);
    return entry;
  }

  /** The unreachable set now (count and up to `cap` pairs), as of the last evaluation. */
  current(): GroundTruthCurrent {
    const pairs: UnreachablePair[] = [];
    const list = [...this.groups.values()];
    for (const ga of list) {
      for (const gb of list) {
        for (const same of [false, true]) {
          if (pairs.length >= this.cap) break;
          const v = this.verdict(ga.newKey!, gb.newKey!, same);
          if (v) this.listPairs(ga, gb, same, v, pairs);
        }
      }
    }
    return { at: this.evaluatedAt, unreachableCount: this.unreachable, openedCount: this.opened, pairs };
  }

  /** Every change recorded, oldest first. */
  entries(): GroundTruthEntry[] {
    return [...this.log];
  }

  /**
   * The entries where some allowed pair was unreachable or some denied pair reachable. With
   * `opened: false`, denied pairs are left out: a source CNI that never enforced its policies
   * (Flannel) starts with them all open, which is not the migration's doing.
   */
  violations(opts: { opened?: boolean } = {}): GroundTruthEntry[] {
    const opened = opts.opened ?? true;
    return this.log.filter((e) => e.unreachableCount > 0 || (opened && e.openedCount > 0));
  }

  /** Forgets the recorded entries (the current state stays the baseline for the next change). */
  clear(): void {
    this.log = [];
  }

  /** Cancels a pending evaluation. */
  stop(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  // Pods whose key changed since the last evaluation (or that appeared or went): [before, after].
  private collectChanges(): [PodEntry | undefined, PodEntry | undefined][] {
    const fresh = new Map<string, PodEntry | undefined>();
    const note = (p: GroundTruthPod) => {
      if (!this.classes.has(p.cls.key)) this.classes.set(p.cls.key, p.cls);
      return { id: p.id, label: p.label, node: p.node, key: p.cls.key };
    };
    if (this.dirtyAll) {
      for (const p of this.source.all()) fresh.set(p.id, note(p));
      for (const id of this.prev.keys()) if (!fresh.has(id)) fresh.set(id, undefined);
    } else {
      const ids = new Set(this.dirtyPods);
      for (const node of this.dirtyNodes) {
        for (const id of this.onNode.get(node) ?? []) ids.add(id);
        for (const id of this.source.idsOnNode(node)) ids.add(id);
      }
      for (const id of ids) {
        const p = this.source.pod(id);
        fresh.set(id, p ? note(p) : undefined);
      }
    }
    this.dirtyAll = false;
    this.dirtyPods.clear();
    this.dirtyNodes.clear();
    const out: [PodEntry | undefined, PodEntry | undefined][] = [];
    for (const [id, next] of fresh) {
      const before = this.prev.get(id);
      if (before?.key !== next?.key) out.push([before, next]);
    }
    return out;
  }

  // Every ordered pair involving a changed pod, judged before and after, by group pair.
  private diff(statics: Group[], transitions: Group[]): GroundTruthEntry {
    const entry: GroundTruthEntry = { at: this.evaluatedAt, unreachableCount: 0, openedCount: 0, addedCount: 0, removedCount: 0, added: [], removed: [] };
    const all = [...statics, ...transitions];
    let total = this.unreachable;
    let opened = this.opened;
    for (const ga of all) {
      for (const gb of all) {
        if (ga.oldKey === ga.newKey && gb.oldKey === gb.newKey) continue;
        const sameAll = sameNodePairs(ga, gb);
        // Self-pairs are same-node pairs of a group with itself; they are not pairs at all.
        const counts = [ga.size * gb.size - sameAll, sameAll - (ga === gb ? ga.size : 0)] as const;
        for (const isSame of [false, true]) {
          const count = counts[isSame ? 1 : 0];
          if (count <= 0) continue;
          const before = ga.oldKey !== undefined && gb.oldKey !== undefined ? this.verdict(ga.oldKey, gb.oldKey, isSame) : null;
          const after = ga.newKey !== undefined && gb.newKey !== undefined ? this.verdict(ga.newKey, gb.newKey, isSame) : null;
          if (before) {
            if (before.opened) opened -= count;
            else total -= count;
          }
          if (after) {
            if (after.opened) opened += count;
            else total += count;
          }
          if (signature(before) === signature(after)) continue;
          if (before) {
            entry.removedCount += count;
            this.listPairs(ga, gb, isSame, before, entry.removed);
          }
          if (after) {
            entry.addedCount += count;
            this.listPairs(ga, gb, isSame, after, entry.added);
          }
        }
      }
    }
    this.unreachable = total;
    this.opened = opened;
    entry.unreachableCount = total;
    entry.openedCount = opened;
    return entry;
  }

  private verdict(keyA: string, keyB: string, sameNode: boolean): Verdict {
    const memoKey = `${keyA}\n${keyB}\n${sameNode ? 1 : 0}`;
    const hit = this.memo.get(memoKey);
    if (hit !== undefined) return hit ?? undefined;
    const a = this.classes.get(keyA)!;
    const b = this.classes.get(keyB)!;
    const network = b.primary;
    const from = sideOf(a);
    const to = sideOf(b);
    const v = judgeReach(from, to, network, sameNode);
    // Both classes were made in one evaluation, so they carry the same policies.
    const ctx = b.policies;
    let result: Verdict;
    if (v.reason !== 'reachable' || !v.path) result = intendedAllowed(ctx, a.policy, b.policy) ? { network, reason: v.reason } : undefined;
    else {
      const p = ctx ? judgePolicy(ctx, from, to, network, v.path, sameNode) : undefined;
      if (p && p.intended && !p.enforced) result = { network, reason: 'denied-by-policy' };
      else if (p && !p.intended && p.enforced) result = { network, reason: 'policy-not-enforced', opened: true };
    }
    if (this.memo.size > 200_000) this.memo.clear();
    this.memo.set(memoKey, result ?? null);
    return result;
  }

  private listPairs(ga: Group, gb: Group, sameNode: boolean, v: NonNullable<Verdict>, out: UnreachablePair[]): void {
    const push = (a: PodEntry, b: PodEntry) => {
      out.push({ from: a.label, to: b.label, network: v.network, reason: v.reason, ...(v.opened ? { kind: 'opened' as const } : {}) });
      return out.length >= this.cap;
    };
    if (out.length >= this.cap) return;
    if (sameNode) {
      for (const [node, list] of ga.byNode) {
        for (const a of list) for (const b of gb.byNode.get(node) ?? []) if (a.id !== b.id && push(a, b)) return;
      }
      return;
    }
    for (const [na, la] of ga.byNode) {
      for (const [nb, lb] of gb.byNode) {
        if (na === nb) continue;
        for (const a of la) for (const b of lb) if (push(a, b)) return;
      }
    }
  }

  private addEntry(e: PodEntry): void {
    this.prev.set(e.id, e);
    addTo(this.groups, e.key, e.key, e.key, e);
    let ids = this.onNode.get(e.node);
    if (!ids) this.onNode.set(e.node, (ids = new Set()));
    ids.add(e.id);
  }

  // e is the very object addEntry stored (it comes from prev), so it can be deleted by identity.
  private removeEntry(e: PodEntry): void {
    const g = this.groups.get(e.key);
    const set = g?.byNode.get(e.node);
    if (g && set?.delete(e)) {
      g.size--;
      if (!set.size) g.byNode.delete(e.node);
    }
    this.onNode.get(e.node)?.delete(e.id);
  }

  // Drops empty groups and the classes no pod has any more.
  private prune(): void {
    for (const [key, g] of this.groups) if (g.size === 0) this.groups.delete(key);
    if (this.classes.size > this.groups.size * 2 + 64) {
      for (const key of this.classes.keys()) if (!this.groups.has(key)) this.classes.delete(key);
    }
  }
}

function addTo(groups: Map<string, Group>, gk: string, oldKey: string | undefined, newKey: string | undefined, p: PodEntry): void {
  let g = groups.get(gk);
  if (!g) groups.set(gk, (g = { oldKey, newKey, size: 0, byNode: new Map() }));
  g.size++;
  let onNode = g.byNode.get(p.node);
  if (!onNode) g.byNode.set(p.node, (onNode = new Set()));
  onNode.add(p);
}

// Ordered pairs (a in ga, b in gb) on the same node, self-pairs included.
function sameNodePairs(ga: Group, gb: Group): number {
  const [small, big] = ga.byNode.size <= gb.byNode.size ? [ga, gb] : [gb, ga];
  let total = 0;
  for (const [node, list] of small.byNode) total += list.size * (big.byNode.get(node)?.size ?? 0);
  return total;
}

function signature(v: Verdict | null): string {
  if (v === null) return 'absent';
  return v ? `${v.network}|${v.reason}${v.opened ? '|opened' : ''}` : 'ok';
}
