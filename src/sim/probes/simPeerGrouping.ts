/**
 * The simulated agents' peers in groups bound to get the same answer (see groupedPeers.ts): the
 * probe Service's peers are partitioned once per change — of the probe pods, of any node's
 * datapaths, or of which agents run — by the model's reachability class of each address
 * (reachClassKey) and whether the expected agent answers there; each agent then takes every class
 * twice, split into the members on its own node and the rest, in O(classes). Without this every
 * agent would list and judge every peer every round: O(pods²) per round in one process.
 */
import type { GroupedTargets, PeerGrouping, TargetGroup } from '../../connectivity/agent/groupedPeers.js';
import { peerCatalog, probesTarget, selfInterfaces, type PeerCatalog, type PeerEntry } from '../../connectivity/agent/peerDiscovery.js';
import type { AgentIdentity, PeerSnapshot, ProbeTarget } from '../../connectivity/agent/probeTypes.js';

/** What the grouping reads of the simulator. */
export interface SimGroupingSource {
  /** The probe Service's peers now (shared, read-only), and a number that changes with them. */
  snapshot(): { snapshot: PeerSnapshot; version: number };
  /** Changes whenever reachability between running pods may have changed (datapaths, firewall, agents). */
  generation(): string;
  /** reachClassKey of each address. */
  classKeys(ips: readonly string[]): (string | undefined)[];
  /** Whether the agent answering at this address is this very peer's (else its answer could differ). */
  answersAsItself(target: ProbeTarget): boolean;
}

/** A class of addresses, members ordered by node. */
interface ClassGroup {
  id: string;
  /** Extra-interface addresses are probed only by agents with an interface on their network. */
  extra: boolean;
  network: string;
  members: ProbeTarget[];
  /** [start, end) of each node's members. */
  nodes: Map<string, [number, number]>;
}

interface Partition {
  version: number;
  key: string;
  catalog: PeerCatalog;
  classes: ClassGroup[];
  /** Where each address sits: its class and index there. */
  at: Map<string, { cls: ClassGroup; index: number; entry: PeerEntry }>;
  byEndpointIp: Map<string, PeerEntry>;
  byPod: Map<string, PeerEntry>;
}

/** Partitions the peers of one probe Service for its agents. */
export class SimPeerGrouping implements PeerGrouping {
  private partition: Partition | undefined;
  private built = 0;
  private readonly views = new Map<string, GroupedTargets>();

  constructor(private readonly source: SimGroupingSource) {}

  groupsFor(self: AgentIdentity): GroupedTargets {
    const p = this.current();
    const cached = this.views.get(self.pod);
    if (cached && cached.version === p.version) return cached;
    const view = agentView(p, self);
    this.views.set(self.pod, view);
    return view;
  }

  /** How many times the peers were partitioned (tests, benchmarks). */
  get partitions(): number {
    return this.built;
  }

  private current(): Partition {
    const { snapshot, version } = this.source.snapshot();
    const key = `${version}/${this.source.generation()}`;
    if (this.partition?.key === key) return this.partition;
    this.built++;
    this.views.clear();
    this.partition = partitionPeers(peerCatalog(snapshot), this.source, this.built, key);
    return this.partition;
  }
}

function partitionPeers(catalog: PeerCatalog, source: SimGroupingSource, version: number, key: string): Partition {
  const targets = catalog.entries.flatMap((e) => e.targets.map((t) => ({ t, e })));
  const keys = source.classKeys(targets.map(({ t }) => t.ip));
  const classes = new Map<string, ClassGroup>();
  const at = new Map<string, { cls: ClassGroup; index: number; entry: PeerEntry }>();
  targets.forEach(({ t, e }, i) => {
    const k = keys[i];
    // Unclassified, or not answered by its own agent (just started, stopping, an address reused): alone.
    const id = k !== undefined && source.answersAsItself(t) ? `${t.primary ? 'primary' : 'extra'}|${t.network}|${k}` : `alone|${t.key}`;
    let cls = classes.get(id);
    if (!cls) classes.set(id, (cls = { id, extra: !t.primary, network: t.network, members: [], nodes: new Map() }));
    // Catalog entries come sorted by node, so each node's members are contiguous.
    const range = cls.nodes.get(t.node);
    if (range) range[1]++;
    else cls.nodes.set(t.node, [cls.members.length, cls.members.length + 1]);
    at.set(t.key, { cls, index: cls.members.length, entry: e });
    cls.members.push(t);
  });
  return { version, key, catalog, classes: [...classes.values()], at, byEndpointIp: new Map(catalog.entries.map((e) => [e.endpointIp, e])), byPod: new Map(catalog.entries.map((e) => [e.pod, e])) };
}

// One agent's groups: every class it probes, split into its node's members and the others, less
// the addresses it must not probe (its own, and a peer listed at one of its addresses).
function agentView(p: Partition, self: AgentIdentity): GroupedTargets {
  const interfaces = selfInterfaces(self, p.catalog);
  const me = { pod: self.pod, ips: new Set(interfaces.flatMap((i) => i.ips)), networks: new Set(interfaces.map((i) => i.network)) };
  const excludedPods = new Set([self.pod]);
  for (const ip of me.ips) {
    const e = p.byEndpointIp.get(ip);
    if (e) excludedPods.add(e.pod);
  }
  const holes = new Map<ClassGroup, number[]>();
  for (const pod of excludedPods) {
    const entry = p.byPod.get(pod);
    for (const t of entry?.targets ?? []) {
      const where = p.at.get(t.key);
      if (where) holes.set(where.cls, [...(holes.get(where.cls) ?? []), where.index]);
    }
  }
  const groups: TargetGroup[] = [];
  for (const cls of p.classes) {
    if (cls.extra && !me.networks.has(cls.network)) continue;
    const skip = (holes.get(cls) ?? []).map((i): [number, number] => [i, i + 1]);
    const local = cls.nodes.get(self.node);
    if (local) {
      groups.push(new WindowGroup(`${cls.id}|same node`, cls.members, local[0], local[1], skip));
      groups.push(new WindowGroup(`${cls.id}|other nodes`, cls.members, 0, cls.members.length, [...skip, local]));
    } else groups.push(new WindowGroup(`${cls.id}|other nodes`, cls.members, 0, cls.members.length, skip));
  }
  const target = (key: string): ProbeTarget | undefined => {
    const where = p.at.get(key);
    const t = where?.cls.members[where.index];
    return where && t && !excludedPods.has(where.entry.pod) && (!where.cls.extra || me.networks.has(where.cls.network)) && probesTarget(me, where.entry, t) ? t : undefined;
  };
  return {
    version: p.version,
    self: { ips: [...me.ips], interfaces },
    groups: groups.filter((g) => g.size > 0),
    target,
    groupOf: (key) => {
      const t = target(key);
      return t && `${p.at.get(key)!.cls.id}|${t.node === self.node ? 'same node' : 'other nodes'}`;
    },
  };
}

/** Members [from, to) of a shared array, less some ranges of it. */
class WindowGroup implements TargetGroup {
  readonly size: number;
  private readonly holes: [number, number][];

  constructor(
    readonly id: string,
    private readonly members: readonly ProbeTarget[],
    private readonly from: number,
    to: number,
    holes: [number, number][],
  ) {
    this.holes = mergeRanges(holes.map(([s, e]): [number, number] => [Math.max(s, from), Math.min(e, to)]).filter(([s, e]) => s < e));
    this.size = to - from - this.holes.reduce((n, [s, e]) => n + e - s, 0);
  }

  at(i: number): ProbeTarget {
    let index = this.from + i;
    for (const [s, e] of this.holes) {
      if (s > index) break;
      index += e - s;
    }
    return this.members[index]!;
  }
}

function mergeRanges(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}
