import { describe, expect, it } from 'vitest';
import { GroundTruthLog, reachClassOf, type GroundTruthEntry, type GroundTruthHint, type GroundTruthPod, type GroundTruthSource } from './groundTruth.js';
import { judgePath, profileKey, type NetworkProfile } from './reachability.js';

const geneve = { kind: 'tunnel', mode: 'geneve', protocol: 'udp', port: 6081 } as const;
const vxlan = { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 } as const;
const UP = (overlay: typeof geneve | typeof vxlan, blocked = false): NetworkProfile => ({ up: true, overlay, conflictsWith: [], blocked });
const DOWN: NetworkProfile = { up: false, conflictsWith: [], blocked: false };

interface FakePod {
  id: string;
  node: string;
  networks: string[];
}

// Node profiles per network, as the world of the test sees them.
type World = Record<string, Record<string, NetworkProfile>>;

function podsOf(pods: FakePod[], world: World): GroundTruthPod[] {
  return pods.map((p) => {
    const profiles = new Map(p.networks.map((n) => [n, world[p.node]?.[n] ?? DOWN]));
    return { id: p.id, label: `default/${p.id}`, node: p.node, cls: reachClassOf(p.networks[0]!, new Set(p.networks), profiles, profileKey) };
  });
}

function sourceOf(current: () => GroundTruthPod[]): GroundTruthSource {
  return {
    all: current,
    pod: (id) => current().find((p) => p.id === id),
    idsOnNode: (node) => current().filter((p) => p.node === node).map((p) => p.id),
  };
}

/** Reports changes and evaluates at once (no waiting for the macrotask). */
function evaluateNow(log: GroundTruthLog, ...hints: GroundTruthHint[]): GroundTruthEntry | undefined {
  for (const h of hints.length ? hints : ['all' as const]) log.markDirty(h);
  const e = log.evaluate();
  log.stop();
  return e;
}

// Every ordered pair, judged one by one: what the class arithmetic must agree with.
function bruteForce(pods: FakePod[], world: World): Set<string> {
  const out = new Set<string>();
  for (const a of pods) {
    for (const b of pods) {
      if (a === b) continue;
      const n = b.networks[0]!;
      const v = judgePath(new Set(a.networks), n, world[a.node]?.[n] ?? DOWN, world[b.node]?.[n] ?? DOWN, a.node === b.node);
      if (v.reason !== 'reachable') out.add(`default/${a.id}>default/${b.id}|${n}|${v.reason}`);
    }
  }
  return out;
}

function healthyWorld(nodes: string[]): World {
  return Object.fromEntries(nodes.map((n) => [n, { flannel: UP(vxlan), cilium: UP(geneve) }]));
}

describe('GroundTruthLog', () => {
  it('logs nothing while every pair is reachable', () => {
    const pods: FakePod[] = [
      { id: 'a', node: 'n1', networks: ['flannel', 'cilium'] },
      { id: 'b', node: 'n2', networks: ['flannel', 'cilium'] },
    ];
    const log = new GroundTruthLog(sourceOf(() => podsOf(pods, healthyWorld(['n1', 'n2']))));
    expect(evaluateNow(log)).toBeUndefined();
    expect(log.entries()).toEqual([]);
    expect(log.current().unreachableCount).toBe(0);
  });

  it('records pairs that break and heal, with reasons', () => {
    const pods: FakePod[] = [
      { id: 'a', node: 'n1', networks: ['flannel', 'cilium'] },
      { id: 'b', node: 'n2', networks: ['flannel', 'cilium'] },
      { id: 'c', node: 'n2', networks: ['cilium'] },
    ];
    let world = healthyWorld(['n1', 'n2']);
    const log = new GroundTruthLog(sourceOf(() => podsOf(pods, world)));
    // c (cilium only) cannot reach flannel-primary pods at all.
    const first = evaluateNow(log);
    expect(first?.unreachableCount).toBe(2);
    expect(first?.added).toEqual(
      expect.arrayContaining([
        { from: 'default/c', to: 'default/a', network: 'flannel', reason: 'no-interface-on-network' },
        { from: 'default/c', to: 'default/b', network: 'flannel', reason: 'no-interface-on-network' },
      ]),
    );
    // Block GENEVE on n2: a→c crosses nodes on cilium; b→c is same-node and unaffected.
    world = { ...world, n2: { flannel: UP(vxlan), cilium: UP(geneve, true) } };
    const second = evaluateNow(log);
    expect(second).toMatchObject({ unreachableCount: 3, addedCount: 1, removedCount: 0, added: [{ from: 'default/a', to: 'default/c', network: 'cilium', reason: 'overlay-blocked-by-firewall' }] });
    world = healthyWorld(['n1', 'n2']);
    expect(evaluateNow(log)).toMatchObject({ unreachableCount: 2, addedCount: 0, removedCount: 1 });
    expect(log.violations()).toHaveLength(3);
    expect(log.current().pairs).toHaveLength(2);
    log.clear();
    expect(log.entries()).toEqual([]);
    expect(evaluateNow(log)).toBeUndefined();
  });

  for (const mode of ['full', 'hinted'] as const) {
    it(`counts pairs exactly like a brute-force check, across random changes (${mode} evaluation)`, () => {
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const nodes = ['n1', 'n2', 'n3', 'n4'];
      const shapes = [['flannel'], ['cilium'], ['flannel', 'cilium'], ['cilium', 'flannel']];
      const profiles = [UP(vxlan), UP(geneve), UP(geneve, true), DOWN, { ...UP(vxlan), conflictsWith: ['x'] }];
      let pods: FakePod[] = [];
      let world: World = healthyWorld(nodes);
      const log = new GroundTruthLog(sourceOf(() => podsOf(pods, world)), { cap: 10_000 });
      let before = new Set<string>();
      for (let round = 0; round < 60; round++) {
        const hints: GroundTruthHint[] = [];
        if (rand(2)) {
          const kept = pods.filter(() => rand(5) > 0);
          for (const p of pods) if (!kept.includes(p)) hints.push({ pod: p.id });
          pods = kept;
        }
        for (let i = rand(6); i > 0; i--) {
          pods.push({ id: `p${round}-${i}`, node: nodes[rand(4)]!, networks: shapes[rand(4)]! });
          hints.push({ pod: `p${round}-${i}` });
        }
        if (rand(3) === 0) {
          const node = nodes[rand(4)]!;
          world = { ...world, [node]: { flannel: profiles[rand(5)]!, cilium: profiles[rand(5)]! } };
          hints.push({ node });
        }
        const after = bruteForce(pods, world);
        const entry = mode === 'full' ? evaluateNow(log) : evaluateNow(log, ...(hints.length ? hints : [{ node: 'none' }]));
        const added = [...after].filter((p) => !before.has(p));
        const removed = [...before].filter((p) => !after.has(p));
        expect(entry?.addedCount ?? 0).toBe(added.length);
        expect(entry?.removedCount ?? 0).toBe(removed.length);
        expect(log.current().unreachableCount).toBe(after.size);
        const key = (p: { from: string; to: string; network: string; reason: string }) => `${p.from}>${p.to}|${p.network}|${p.reason}`;
        expect(new Set((entry?.added ?? []).map(key))).toEqual(new Set(added));
        expect(new Set((entry?.removed ?? []).map(key))).toEqual(new Set(removed));
        expect(new Set(log.current().pairs.map(key))).toEqual(after);
        before = after;
      }
    });
  }

  it('handles 1000 nodes × 30 pods by classes, listing at most the cap', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => `node-${i}`);
    const pods: FakePod[] = nodes.flatMap((node) => Array.from({ length: 30 }, (_, i) => ({ id: `${node}-${i}`, node, networks: i % 2 ? ['flannel', 'cilium'] : ['cilium', 'flannel'] })));
    let world = healthyWorld(nodes);
    const log = new GroundTruthLog(sourceOf(() => podsOf(pods, world)));
    expect(evaluateNow(log)).toBeUndefined();
    // Block GENEVE everywhere: every cross-node pair to a cilium-primary pod breaks.
    world = Object.fromEntries(nodes.map((n) => [n, { flannel: UP(vxlan), cilium: UP(geneve, true) }]));
    const entry = evaluateNow(log);
    const ciliumPrimary = 15 * 1000;
    expect(entry?.unreachableCount).toBe(30_000 * ciliumPrimary - 30 * 15 * 1000);
    expect(entry?.added).toHaveLength(200);
    expect(evaluateNow(log)).toBeUndefined();
  });
});
