import type { OutcomeCheck } from '../migration/outcomeCheck.js';
import type { RunReport } from './runRecorder.js';

// A run as JUnit XML, for CI systems that chart test results: one testsuite per step with a
// testcase per node (or one for a step that is not per node), one for the preflight checks, one
// for connectivity, and one for the outcome checks when there are any. A node the run did not
// finish is a failure carrying the run's error; a node it skipped (already past the step) is
// skipped.

interface Case {
  name: string;
  classname: string;
  seconds?: number | undefined;
  failure?: { message: string; body?: string | undefined } | undefined;
  skipped?: string | undefined;
  out?: string | undefined;
}

interface Suite {
  name: string;
  timestamp?: string | undefined;
  seconds?: number | undefined;
  cases: Case[];
}

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // Characters XML 1.0 cannot hold at all (control codes from a pod's output, say).
    .replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '?');
const secs = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');

function stepSuites(r: RunReport): Suite[] {
  const stopped = r.error ?? 'the run stopped before it finished';
  return r.steps.map((s) => {
    const classname = `cni-migration.step${s.step}-${slug(s.name)}`;
    const unfinished = (what: string): Case['failure'] => ({ message: `${what} did not finish: ${stopped}` });
    const cases: Case[] = s.nodes.map((n) => ({
      name: n.node,
      classname,
      seconds: secs(n.durationMs),
      ...(n.durationMs === undefined ? { failure: unfinished(`node ${n.node}`) } : {}),
      ...(n.batch !== undefined ? { out: `batch ${n.batch}` } : {}),
    }));
    cases.push(...s.skippedNodes.map((node) => ({ name: node, classname, skipped: `already past step ${s.step}` })));
    if (!cases.length) cases.push({ name: s.name, classname, seconds: secs(s.durationMs), ...(s.durationMs === undefined ? { failure: unfinished(`step ${s.step}`) } : {}), ...(s.alreadyDone ? { out: 'already done; checked' } : {}) });
    const started = s.nodes.find((n) => n.startedAt)?.startedAt;
    return { name: `step ${s.step} ${s.name}`, timestamp: started, seconds: secs(s.durationMs), cases };
  });
}

function connectivitySuite(r: RunReport): Suite {
  const c = r.connectivity;
  const failed = c.failedPairs;
  const lines = failed.slice(0, 200).map((f) => `${f.from} -> ${f.to}${f.network ? ` (${f.network})` : ''}: ${f.reason} [${f.firstSeen} .. ${f.lastSeen}]`);
  if (failed.length > lines.length) lines.push(`… and ${failed.length - lines.length} more`);
  return {
    name: 'connectivity',
    cases: [
      {
        name: 'no probe pair failed',
        classname: 'cni-migration.connectivity',
        out: `${c.pairChecks} pair checks at ${c.checkpoints} checkpoints, up to ${c.probesSeen} probe pods`,
        ...(failed.length ? { failure: { message: `${failed.length} probe pair failure(s)`, body: lines.join('\n') } } : {}),
      },
    ],
  };
}

/** The report (and the outcome checks, when the run was verified) as a JUnit XML document. */
export function renderJUnit(r: RunReport, outcome: readonly OutcomeCheck[] = []): string {
  const suites: Suite[] = [];
  if (r.preflight.length) {
    suites.push({
      name: 'preflight',
      cases: r.preflight.map((p) => ({
        name: p.name,
        classname: 'cni-migration.preflight',
        out: `${p.verdict.toUpperCase()}: ${p.detail}`,
        ...(p.verdict === 'fail' ? { failure: { message: p.detail, body: p.fix } } : {}),
      })),
    });
  }
  suites.push(...stepSuites(r), connectivitySuite(r));
  if (outcome.length) suites.push({ name: 'outcome', cases: outcome.map((o) => ({ name: o.name, classname: 'cni-migration.outcome', out: o.detail, ...(o.ok ? {} : { failure: { message: o.detail } }) })) });

  const count = (s: Suite, f: (c: Case) => boolean) => s.cases.filter(f).length;
  const all = suites.flatMap((s) => s.cases);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cni-migration${r.strategy ? ` ${esc(r.strategy)}` : ''}" tests="${all.length}" failures="${all.filter((c) => c.failure).length}" errors="0" skipped="${all.filter((c) => c.skipped).length}" time="${(r.durationMs / 1000).toFixed(3)}">`,
  ];
  for (const s of suites) {
    const attrs = [`name="${esc(s.name)}"`, `tests="${s.cases.length}"`, `failures="${count(s, (c) => !!c.failure)}"`, `errors="0"`, `skipped="${count(s, (c) => !!c.skipped)}"`];
    if (s.seconds !== undefined) attrs.push(`time="${s.seconds.toFixed(3)}"`);
    if (s.timestamp) attrs.push(`timestamp="${esc(s.timestamp.replace(/\.\d+Z$/, ''))}"`);
    out.push(`  <testsuite ${attrs.join(' ')}>`);
    for (const c of s.cases) {
      const head = `    <testcase name="${esc(c.name)}" classname="${esc(c.classname)}"${c.seconds !== undefined ? ` time="${c.seconds.toFixed(3)}"` : ''}`;
      const inner: string[] = [];
      if (c.failure) inner.push(`      <failure message="${esc(c.failure.message)}" type="failure">${c.failure.body ? esc(c.failure.body) : ''}</failure>`);
      if (c.skipped) inner.push(`      <skipped message="${esc(c.skipped)}"/>`);
      if (c.out) inner.push(`      <system-out>${esc(c.out)}</system-out>`);
      out.push(inner.length ? `${head}>\n${inner.join('\n')}\n    </testcase>` : `${head}/>`);
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
