import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliProcess, startCli } from '../support/cliProcess.js';
import { KUBECTL, kubectl } from '../support/kubectl.js';
import { waitFor } from '../support/waitFor.js';

describe('cni-migration sim serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-serve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!KUBECTL)('serves a cluster kubectl can use, writes a private kubeconfig, and stops on SIGINT', async () => {
    const kc = join(dir, 'kubeconfig');
    const p = startCli(['sim', 'serve', '--nodes', '2', '--kubeconfig-out', kc]);
    await waitFor('ready message', () => p.output().stdout.includes('Press Ctrl-C to stop.'), 30_000);
    expect(p.output().stdout).toMatch(/Simulated cluster ready in \d+ ms: 2 nodes/);
    expect(p.output().stdout).toContain(`export KUBECONFIG=${kc}`);
    expect(statSync(kc).mode & 0o777).toBe(0o600);
    const nodes = await kubectl(kc, ['get', 'nodes', '-o', 'name']);
    expect(nodes.stdout.trim().split('\n')).toEqual(['node/node-1', 'node/node-2']);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    expect(p.output().stdout).toContain('Simulated cluster stopped.');
  });

  it('refuses bad flags with exit code 2 and a one-line reason', async () => {
    const r = await runCliProcess(['sim', 'serve', '--nodes', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--nodes must be an integer from 1 to 5000, got "many"');
  });

  it('refuses a missing scenario file with exit code 2 naming it', async () => {
    const r = await runCliProcess(['sim', 'serve', '--scenario', join(dir, 'nope.yaml'), '--kubeconfig-out', join(dir, 'kc2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'nope.yaml')}: cannot read scenario: ENOENT`);
  });
});
