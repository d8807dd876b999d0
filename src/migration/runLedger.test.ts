import { describe, expect, it } from 'vitest';
import { apiError, FakeCluster } from '../ops/testing/fakeCluster.js';
import type { MigrationEvent } from './migrationEvents.js';
import { describeLedgerEntry, lastRunEnding, LEDGER, LedgerRecorder, LedgerWriter, readLedger, type LedgerEntry } from './runLedger.js';

const T0 = Date.parse('2026-12-02T03:00:00.000Z');
const WHO = 'alice@ops pid 7';
const drain = { kind: 'drain', node: 'n2' } as const;

function run(events: MigrationEvent[]): LedgerEntry[] {
  const r = new LedgerRecorder(WHO);
  return events.flatMap((e) => r.entriesOf(e));
}

describe('LedgerRecorder', () => {
  it('records the run, each finished action with its duration, and on a stop the action that was running', () => {
    const entries = run([
      { type: 'runStart', dryRun: false, strategy: 'multus', source: 'canal (DaemonSet kube-system/canal)', steps: [2], nodes: ['n1', 'n2'], at: T0 },
      { type: 'action', step: 2, node: 'n1', action: { kind: 'drain', node: 'n1' }, description: 'drain n1', at: T0 + 1000 },
      { type: 'actionDone', step: 2, node: 'n1', action: { kind: 'drain', node: 'n1' }, at: T0 + 3500, ms: 2500 },
      { type: 'action', step: 2, node: 'n2', action: drain, description: 'drain n2', at: T0 + 4000 },
      { type: 'runDone', ok: false, at: T0 + 9000, error: 'step 2 (roll) on node n2 failed while trying to drain n2: PodDisruptionBudget shop/web' },
    ]);
    expect(entries).toEqual([
      { who: WHO, at: '2026-12-02T03:00:00.000Z', what: 'run', result: 'started', detail: 'multus from canal (DaemonSet kube-system/canal), steps 2' },
      { who: WHO, at: '2026-12-02T03:00:03.500Z', what: 'drain', step: 2, node: 'n1', result: 'ok', ms: 2500 },
      { who: WHO, at: '2026-12-02T03:00:09.000Z', what: 'drain', step: 2, node: 'n2', result: 'failed', detail: 'step 2 (roll) on node n2 failed while trying to drain n2: PodDisruptionBudget shop/web', ms: 5000 },
      { who: WHO, at: '2026-12-02T03:00:09.000Z', what: 'run', result: 'stopped', detail: 'step 2 (roll) on node n2 failed while trying to drain n2: PodDisruptionBudget shop/web' },
    ]);
    expect(describeLedgerEntry(entries[1]!)).toBe('2026-12-02T03:00:03.500Z alice@ops pid 7: drain (step 2 node n1) ok in 2.5s');
  });

  it('tells how the last run ended: finished (nothing to say), stopped by a failure, or gone without a word', () => {
    const started: MigrationEvent = { type: 'runStart', dryRun: false, strategy: 'multus', source: 'canal', steps: [2], nodes: [], at: T0 };
    const acted: MigrationEvent[] = [started, { type: 'action', step: 2, node: 'n2', action: drain, description: 'drain n2', at: T0 + 1 }, { type: 'actionDone', step: 2, node: 'n2', action: drain, at: T0 + 2, ms: 1 }];
    expect(lastRunEnding(run([...acted, { type: 'runDone', ok: true, at: T0 + 3 }]))).toBeUndefined();
    expect(lastRunEnding(run([started, { type: 'action', step: 2, node: 'n2', action: drain, description: 'drain n2', at: T0 + 1 }, { type: 'runDone', ok: false, at: T0 + 2, error: 'boom' }]))).toBe('the last run (alice@ops pid 7) stopped at 2026-12-02T03:00:00.002Z in drain of step 2 on n2: boom');
    expect(lastRunEnding(run(acted))).toBe(
      'the last run (alice@ops pid 7, started 2026-12-02T03:00:00.000Z) ended without finishing (killed or lost); its last recorded action: 2026-12-02T03:00:00.002Z alice@ops pid 7: drain (step 2 node n2) ok in 0.0s',
    );
    expect(lastRunEnding([])).toBeUndefined();
  });
});

describe('LedgerWriter', () => {
  const cm = (fake: FakeCluster, name: string = LEDGER.name) => fake.peek<{ metadata: { labels?: Record<string, string> }; data?: Record<string, string> }>('v1', 'ConfigMap', name, LEDGER.namespace);

  it('creates the labelled ConfigMap on the first flush and appends to it after; readLedger gives the entries back in order', async () => {
    const fake = new FakeCluster();
    const w = new LedgerWriter(fake, T0, 60_000);
    await w.open();
    const entries = run([
      { type: 'runStart', dryRun: false, strategy: 'multus', source: 'canal', steps: [2], nodes: [], at: T0 },
      { type: 'action', step: 2, node: 'n1', action: drain, description: 'drain', at: T0 + 1 },
      { type: 'actionDone', step: 2, node: 'n1', action: drain, at: T0 + 2, ms: 1 },
    ]);
    w.add(entries.slice(0, 1));
    await w.flush();
    expect(cm(fake)?.metadata.labels).toEqual({ [LEDGER.label]: 'true', 'app.kubernetes.io/managed-by': 'cni-migration' });
    w.add(entries.slice(1));
    await w.close();
    expect(Object.keys(cm(fake)?.data ?? {})).toEqual([`${T0.toString(36)}.000000`, `${T0.toString(36)}.000001`]);
    expect(await readLedger(fake)).toEqual(entries);
    // A second run appends to the same ledger.
    const next = new LedgerWriter(fake, T0 + 60_000, 60_000);
    await next.open();
    next.add([{ who: 'bob', at: '2026-12-02T03:01:00.000Z', what: 'run', result: 'started' }]);
    await next.close();
    expect((await readLedger(fake)).map((e) => e.who)).toEqual([WHO, WHO, 'bob']);
  });

  it('rolls over to cni-migration-ledger-2 before the ConfigMap size limit', async () => {
    const fake = new FakeCluster();
    const w = new LedgerWriter(fake, T0, 60_000);
    await w.open();
    const big = (i: number): LedgerEntry => ({ who: WHO, at: new Date(T0 + i).toISOString(), what: 'labelNode', result: 'ok', detail: 'x'.repeat(400) });
    for (let i = 0; i < 2000; i++) {
      w.add([big(i)]);
      if (i % 100 === 99) await w.flush();
    }
    await w.close();
    expect(cm(fake)).toBeDefined();
    expect(cm(fake, `${LEDGER.name}-2`)).toBeDefined();
    expect(JSON.stringify(cm(fake)?.data).length).toBeLessThan(1_000_000);
    expect(await readLedger(fake)).toHaveLength(2000);
  });

  it('a write that fails is reported and never throws: the ledger is a record, not a gate', async () => {
    const fake = new FakeCluster();
    const errors: string[] = [];
    const w = new LedgerWriter(fake, T0, 60_000, (m) => errors.push(m));
    fake.failNext('patchObject', apiError(403, 'Forbidden', 'configmaps "cni-migration-ledger" is forbidden'));
    w.add([{ who: WHO, at: '2026-12-02T03:00:00.000Z', what: 'run', result: 'started' }]);
    await w.close();
    expect(errors).toEqual(['could not write the ledger (ConfigMap kube-system/cni-migration-ledger): configmaps "cni-migration-ledger" is forbidden']);
  });
});
