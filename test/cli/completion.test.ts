import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCliProcess } from '../support/cliProcess.js';

// Shell completion as a user loads it: the script the CLI prints, sourced by a real bash, asked
// what completes a partly typed command line.

const dir = mkdtempSync(join(tmpdir(), 'cni-migration-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cni-migration --version', () => {
  it("prints package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCliProcess(['--version']);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe.skipIf(!existsSync('/bin/bash'))('cni-migration completion', () => {
  it('completes commands, subcommands, each command’s own flags, fixed values and file paths in bash', async () => {
    const r = await runCliProcess(['completion', 'bash']);
    expect(r.code, r.stderr).toBe(0);
    const script = join(dir, 'completion.bash');
    writeFileSync(script, r.stdout);
    writeFileSync(join(dir, 'shop.yaml'), 'x: 1\n');
    const complete = (...words: string[]) => {
      const probe = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _cni_migration; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('/bin/bash', ['-c', probe], { cwd: dir, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    };
    expect(complete('cni-migration', 'r')).toEqual(['report-schema', 'rollback', 'run']);
    expect(complete('cni-migration', 'run', '--max')).toEqual(['--max-unavailable']);
    // demo's flags are not run's.
    expect(complete('cni-migration', 'run', '--sce')).toEqual([]);
    expect(complete('cni-migration', 'demo', '--sce')).toEqual(['--scenario']);
    expect(complete('cni-migration', 'sim', 's')).toEqual(['serve']);
    expect(complete('cni-migration', 'sim', 'serve', '--kubeconfig-o')).toEqual(['--kubeconfig-out']);
    expect(complete('cni-migration', 'run', '--strategy', '')).toEqual(['dual-overlay', 'multus']);
    // A flag's value is not a command: the path stays "run".
    expect(complete('cni-migration', 'run', '--strategy', 'multus', '--no-d')).toEqual(['--no-dry-run']);
    expect(complete('cni-migration', 'demo', '--scenario', 'sh')).toEqual(['shop.yaml']);
    expect(complete('cni-migration', 'completion', '')).toEqual(['--help', '-h', 'bash', 'fish', 'zsh']);
  });

  it('prints zsh and fish scripts, and refuses another shell naming the ones it knows', async () => {
    const zsh = await runCliProcess(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef cni-migration\n[\s\S]*bashcompinit[\s\S]*complete -o default -F _cni_migration cni-migration\n$/);
    const fish = await runCliProcess(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c cni-migration -n '__fish_seen_subcommand_from run' -l strategy -r -a 'multus dual-overlay'");
    expect(fish.stdout).toContain("complete -c cni-migration -n '__fish_use_subcommand' -a demo -d");
    const bad = await runCliProcess(['completion', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown shell "tcsh": use one of bash, zsh, fish');
  });
});
