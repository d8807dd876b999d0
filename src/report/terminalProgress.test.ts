import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { MigrationEvent } from '../migration/migrationEvents.js';
import { applyEvent, newLiveStatus, renderLiveStatus } from './liveStatus.js';
import { createProgress } from './terminalProgress.js';

const T0 = 1_000_000;
const drain = { kind: 'drain', node: 'node-2' } as unknown as Extract<MigrationEvent, { type: 'action' }>['action'];
const events: [number, MigrationEvent][] = [
  [0, { type: 'stepStart', step: 2, name: 'migrate', nodes: ['node-1', 'node-2', 'node-3', 'node-4'], alreadyDone: false, at: T0 }],
  [0, { type: 'batchStart', step: 2, index: 0, total: 2, nodes: ['node-2', 'node-3'], zone: '', controlPlane: false, canary: false, at: T0 }],
  [0, { type: 'nodeStart', step: 2, node: 'node-2', index: 0, total: 4, at: T0 }],
  [0, { type: 'nodeStart', step: 2, node: 'node-3', index: 1, total: 4, at: T0 }],
  [1000, { type: 'action', step: 2, node: 'node-2', action: drain, description: 'drain node-2 (cordon, evict)', at: T0 + 1000 }],
  [30_000, { type: 'nodeDone', step: 2, node: 'node-3', ms: 30_000, at: T0 + 30_000 }],
];

function capture(tty: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  out.isTTY = tty;
  out.columns = 120;
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

describe('live progress', () => {
  it('shows the step, nodes done of total, the batch, elapsed, the estimate left and each busy node’s action', () => {
    const s = newLiveStatus(T0);
    for (const [t, e] of events) applyEvent(s, e, T0 + t);
    // Three nodes to go, two at a time, at 30 s each: two more rounds.
    expect(renderLiveStatus(s, T0 + 31_000)).toEqual(['step 2 migrate · 1/4 nodes · batch 1/2 · elapsed 31s · ~1m00s left in the step', '  node-2: drain node-2 (cordon, evict)']);
    expect(renderLiveStatus(s, T0 + 31_000, 40)[0]).toBe('step 2 migrate · 1/4 nodes · batch 1/2 …');
  });

  it('on a terminal redraws a live block under the plain lines; elsewhere writes plain lines only; --quiet keeps warnings', () => {
    let now = T0;
    const tty = capture(true);
    const live = createProgress(tty.out, { level: 'info', now: () => now });
    for (const [t, e] of events) {
      now = T0 + t;
      live(e);
    }
    live({ type: 'runDone', ok: true, at: now });
    expect(tty.text()).toContain('step 2 migrate [1/4 nodes done] node node-3: done in 30.0s');
    expect(tty.text()).toContain('step 2 migrate · 1/4 nodes · batch 1/2 · elapsed 30s · ~1m00s left in the step');
    // log-update erases the block before each new line (ESC [2K: erase line).
    expect(tty.text()).toContain('\u001b[2K');

    const pipe = capture(false);
    const plain = createProgress(pipe.out, { level: 'info' });
    for (const [, e] of events) plain(e);
    expect(pipe.text()).toContain('node node-3: done in 30.0s');
    expect(pipe.text()).not.toContain('\u001b[');
    expect(pipe.text()).not.toContain('left in the step');

    const q = capture(true);
    const quiet = createProgress(q.out, { level: 'info', quiet: true });
    for (const [, e] of events) quiet(e);
    quiet({ type: 'warning', message: 'PodDisruptionBudget shop/db allows no eviction' });
    expect(q.text().trim().split('\n')).toHaveLength(1);
    expect(q.text()).toMatch(/warning: PodDisruptionBudget shop\/db allows no eviction\n$/);
  });
});
