import { describe, expect, it } from 'vitest';
import { renderJUnit } from './junitReport.js';
import { RunRecorder, type RunReport } from './runRecorder.js';

function report(over: Partial<RunReport> = {}): RunReport {
  return { ...new RunRecorder().report, strategy: 'dual-overlay', source: 'canal', durationMs: 12_500, ...over };
}

/** Every tag closed in order: enough to catch a broken document without an XML library. */
function balanced(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.replace(/<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([\w-]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (!m[1]) stack.push(m[2]!);
    else if (stack.pop() !== m[2]) return false;
  }
  return stack.length === 0;
}

describe('renderJUnit', () => {
  it('gives a testcase per node and step: finished ones pass with their time, the unfinished one fails with the error, skipped ones are skipped', () => {
    const xml = renderJUnit(
      report({
        error: 'step 2 (migrate) on node node-3 failed: 1 pod lacks <cilium> & more',
        steps: [
          { step: 1, name: 'install', alreadyDone: true, durationMs: 300, nodes: [], skippedNodes: [] },
          {
            step: 2,
            name: 'migrate',
            alreadyDone: false,
            nodes: [
              { node: 'node-2', startedAt: '2026-12-07T10:00:00.123Z', durationMs: 1500, batch: 1 },
              { node: 'node-3', startedAt: '2026-12-07T10:00:02.000Z', batch: 2 },
            ],
            skippedNodes: ['node-1'],
          },
        ],
      }),
    );
    expect(balanced(xml)).toBe(true);
    expect(xml).toContain('<testsuites name="cni-migration dual-overlay" tests="5" failures="1" errors="0" skipped="1" time="12.500">');
    expect(xml).toContain('<testsuite name="step 1 install" tests="1" failures="0" errors="0" skipped="0" time="0.300">');
    expect(xml).toContain('<testcase name="install" classname="cni-migration.step1-install" time="0.300">\n      <system-out>already done; checked</system-out>');
    expect(xml).toContain('<testsuite name="step 2 migrate" tests="3" failures="1" errors="0" skipped="1" timestamp="2026-12-07T10:00:00">');
    expect(xml).toContain('<testcase name="node-2" classname="cni-migration.step2-migrate" time="1.500">\n      <system-out>batch 1</system-out>');
    expect(xml).toContain('<testcase name="node-3" classname="cni-migration.step2-migrate">\n      <failure message="node node-3 did not finish: step 2 (migrate) on node node-3 failed: 1 pod lacks &lt;cilium&gt; &amp; more" type="failure"></failure>');
    expect(xml).toContain('<testcase name="node-1" classname="cni-migration.step2-migrate">\n      <skipped message="already past step 2"/>');
    // The step's own failure shows once, on its node: connectivity passed.
    expect(xml).toMatch(/<testcase name="no probe pair failed" classname="cni-migration.connectivity">\n {6}<system-out>0 pair checks/);
  });

  it('carries failed probe pairs, failing preflight checks and outcome checks, escaping what XML cannot hold', () => {
    const xml = renderJUnit(
      report({
        preflight: [
          { name: 'two or more Ready nodes', verdict: 'pass', detail: '3 nodes' },
          { name: 'Cilium pool', verdict: 'fail', detail: 'overlaps 10.244.0.0/16', fix: 'set cilium.podCIDR' },
        ],
        connectivity: { checkpoints: 4, probesSeen: 6, pairChecks: 120, failedPairs: [{ from: 'probe/a', to: 'probe/b', network: 'cilium', reason: 'timeout \u0007', firstSeen: 't1', lastSeen: 't2' }] },
      }),
      [
        { name: 'every node migrated', ok: true, detail: '3 nodes' },
        { name: 'no migration taint left', ok: false, detail: 'node-2 has node.cilium.io/agent-not-ready' },
      ],
    );
    expect(balanced(xml)).toBe(true);
    expect(xml).toContain('<failure message="overlaps 10.244.0.0/16" type="failure">set cilium.podCIDR</failure>');
    expect(xml).toContain('<failure message="1 probe pair failure(s)" type="failure">probe/a -&gt; probe/b (cilium): timeout ? [t1 .. t2]</failure>');
    expect(xml).toContain('<system-out>120 pair checks at 4 checkpoints, up to 6 probe pods</system-out>');
    expect(xml).toContain('<testsuite name="outcome" tests="2" failures="1" errors="0" skipped="0">');
    expect(xml).toContain('<testcase name="no migration taint left" classname="cni-migration.outcome">\n      <failure message="node-2 has node.cilium.io/agent-not-ready" type="failure"></failure>');
  });
});
