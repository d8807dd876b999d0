import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../test/support/cliProcess.js';

// What `npm pack` ships is what a user installs: the tarball alone, in an empty directory, must
// run the rehearsal (the simulator, the bundled manifests and scenarios inside it), with no
// source tree or dev dependency to lean on.

const dir = mkdtempSync(join(tmpdir(), 'e2e-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe('the npm package', () => {
  it('installs from its tarball into an empty directory, where npx cni-migration demo rehearses and verifies a migration', async () => {
    const pack = await run('npm', ['pack', '--pack-destination', dir], ROOT);
    expect(pack.code, pack.out.slice(-2000)).toBe(0);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^cni-migration-\d+\.\d+\.\d+\.tgz$/);
    const app = join(dir, 'empty');
    mkdirSync(app);
    // Dependencies come from the npm cache `npm ci` filled (the registry otherwise).
    const install = await run('npm', ['install', '--prefer-offline', '--no-save', join(dir, tarball!)], app);
    expect(install.code, install.out.slice(-2000)).toBe(0);
    expect(readdirSync(app).sort()).toEqual(['node_modules']);

    const version = await run('npx', ['--no-install', 'cni-migration', '--version'], app);
    expect(version.code, version.out).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    const demo = await run('npx', ['--no-install', 'cni-migration', 'demo', '--nodes', '2', '--report', 'report.md'], app);
    expect(demo.code, demo.out.slice(-3000)).toBe(0);
    expect(demo.out).toContain('Migration verified');
    expect(demo.out).toMatch(/ok {3}simulator saw no pod pair lose connectivity/);
    expect(readdirSync(app)).toContain('report.md');

    // A bundled scenario, read from inside the package.
    const scenario = join(app, 'node_modules', 'cni-migration', 'scenarios', 'flannel.yaml');
    const flannel = await run('npx', ['--no-install', 'cni-migration', 'demo', '--strategy', 'dual-overlay', '--nodes', '2', '--scenario', scenario], app);
    expect(flannel.code, flannel.out.slice(-3000)).toBe(0);
    expect(flannel.out).toContain('Migration verified');
  });
});
