import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/htmlReport.js';
import { RunRecorder, type RunReport } from '../../src/report/runRecorder.js';

// The HTML report as a reader sees it: loaded in a real headless Chromium (Debian's package), its
// script draws the timeline and the heat map; the DOM after that is what is asserted. The page
// itself holds no SVG shapes, so a broken script shows as a missing drawing, not a pass.

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const dir = mkdtempSync(join(tmpdir(), 'cni-migration-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rendered(html: string): string {
  const file = join(dir, `r${Math.random().toString(36).slice(2)}.html`);
  writeFileSync(file, html);
  return execFileSync(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

const fail = (from: string, fromNode: string, to: string, toNode: string, firstSeen: string, lastSeen: string) => ({ from, fromNode, to, toNode, network: 'cilium', reason: 'timeout', firstSeen, lastSeen });

function report(): RunReport {
  return {
    ...new RunRecorder().report,
    ok: false,
    strategy: 'dual-overlay',
    source: 'canal',
    error: 'step 2 (migrate) on node node-1 failed <while> draining',
    startedAt: '2026-12-07T10:00:00.000Z',
    durationMs: 60_000,
    steps: [
      { step: 1, name: 'install', alreadyDone: false, durationMs: 5000, nodes: [], skippedNodes: [] },
      {
        step: 2,
        name: 'migrate',
        alreadyDone: false,
        nodes: [
          { node: 'node-2', startedAt: '2026-12-07T10:00:10.000Z', durationMs: 10_000, batch: 1 },
          { node: 'node-3', startedAt: '2026-12-07T10:00:20.000Z', durationMs: 10_000, batch: 2 },
          { node: 'node-1', startedAt: '2026-12-07T10:00:30.000Z', batch: 3 },
        ],
        skippedNodes: [],
      },
    ],
    connectivity: {
      checkpoints: 9,
      probesSeen: 6,
      pairChecks: 300,
      failedPairs: [
        fail('probe/a-2', 'node-2', 'probe/a-3', 'node-3', '2026-12-07T10:00:21.000Z', '2026-12-07T10:00:25.000Z'),
        fail('probe/b-2', 'node-2', 'probe/b-3', 'node-3', '2026-12-07T10:00:23.000Z', '2026-12-07T10:00:29.000Z'),
        fail('probe/a-1', 'node-1', 'probe/a-2', 'node-2', '2026-12-07T10:00:40.000Z', '2026-12-07T10:00:41.000Z'),
      ],
    },
    podRecreations: { 'Deployment shop/web': 4 },
  };
}

describe.skipIf(!CHROMIUM)('the HTML report in a headless Chromium', () => {
  it('draws a bar per node and step (the unfinished one red), a heat map cell per node pair with the failing ones marked, and the worst moment', () => {
    const html = renderHtmlReport(report(), [{ name: 'every node migrated', ok: false, detail: 'not migrated: node-1' }]);
    expect(html).not.toContain('<rect');
    const dom = rendered(html);
    expect(dom).toContain('data-drawn="true"');
    const bars = [...dom.matchAll(/<rect [^>]*class="bar( failed)?"[^>]*data-step="(\d+)" data-node="([^"]+)"/g)].map((m) => `${m[2]}/${m[3]}${m[1] ?? ''}`);
    expect(bars).toEqual(['2/node-2', '2/node-3', '2/node-1 failed']);
    const cells = [...dom.matchAll(/<rect [^>]*class="cell( failing)?"[^>]*data-from="([^"]+)" data-to="([^"]+)" data-failures="(\d+)"/g)];
    expect(cells).toHaveLength(9);
    expect(cells.filter((c) => c[1]).map((c) => `${c[2]}→${c[3]}:${c[4]}`)).toEqual(['node-2→node-3:2', 'node-1→node-2:1']);
    // Two pairs overlapped from 10:00:23 to 10:00:25.
    expect(dom).toMatch(/<p id="worst" class="bad">Worst moment: 2 pair\(s\) failing at once, at 2026-12-07T10:00:23.000Z<\/p>/);
    expect(dom).toContain('<span class="bad" id="result">FAILED</span>');
    expect(dom).toContain('step 2 (migrate) on node node-1 failed &lt;while&gt; draining');
    expect(dom).toContain('<td>every node migrated</td><td>FAIL</td>');
  });

  it('a clean run says no pair failed, with an all-green heat map', () => {
    const clean = { ...report(), ok: true, error: undefined, connectivity: { ...report().connectivity, failedPairs: [] } };
    const dom = rendered(renderHtmlReport(clean));
    expect(dom).toContain('<p id="worst" class="good">No probe pair failed at any moment.</p>');
    expect(dom).not.toContain('class="cell failing"');
    expect([...dom.matchAll(/class="cell"/g)]).toHaveLength(9);
  });

  it('the demo writes it with --report run.html', { timeout: 180_000 }, async () => {
    const { runCliProcess } = await import('../support/cliProcess.js');
    const file = join(dir, 'demo.html');
    const r = await runCliProcess(['demo', '--nodes', '2', '--report', file]);
    expect(r.code, r.stderr.slice(-1000)).toBe(0);
    const dom = rendered(readFileSync(file, 'utf8'));
    expect(dom).toContain('<span class="good" id="result">success</span>');
    expect([...dom.matchAll(/class="bar"/g)].length).toBeGreaterThanOrEqual(6);
  });
});
