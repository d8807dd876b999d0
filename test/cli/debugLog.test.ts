import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDebugLogger } from '../../src/report/debugLog.js';
import { runCliProcess } from '../support/cliProcess.js';
import { startSimWithKubeconfig } from '../support/simWithKubeconfig.js';

// -v debug: structured JSON logs on stderr (pino) — every API request and engine event — with
// credentials and data redacted wherever they appear.

describe('structured debug logs', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>>;
  beforeAll(async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('redacts tokens, authorization, passwords and data at any depth', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const log = createDebugLogger(out);
    log.debug({ token: 'tok-1', event: { authorization: 'Bearer tok-2', data: { password: 'pw-3' }, node: 'node-1' } }, 'something');
    const line = JSON.parse(text) as { msg: string; token: string; event: { authorization: string; data: string; node: string } };
    expect(line).toMatchObject({ msg: 'something', token: '[redacted]', event: { authorization: '[redacted]', data: '[redacted]', node: 'node-1' } });
    expect(text).not.toMatch(/tok-1|tok-2|pw-3/);
  });

  it('-v debug logs each API request as JSON without the bearer token; a bad level is refused', async () => {
    const token = (parse(readFileSync(sim.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] }).users[0]!.user.token;
    expect(token.length).toBeGreaterThan(8);
    const r = await runCliProcess(['-v', 'debug', 'detect', '--kubeconfig', sim.kubeconfig]);
    expect(r.code, r.stderr.slice(-1000)).toBe(0);
    const logs = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; method?: string; path?: string; status?: number; level: number });
    const requests = logs.filter((l) => l.msg === 'api request');
    expect(requests.length).toBeGreaterThan(2);
    expect(requests).toContainEqual(expect.objectContaining({ method: 'GET', path: expect.stringMatching(/^\/apis\/apps\/v1\/daemonsets/) as string, status: 200, level: 20 }));
    expect(r.stderr).not.toContain(token);
    const quiet = await runCliProcess(['detect', '--kubeconfig', sim.kubeconfig]);
    expect(quiet.stderr).not.toContain('"msg":"api request"');
    const bad = await runCliProcess(['-v', 'loud', 'run', '--steps', '0', '--kubeconfig', sim.kubeconfig]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('-v/--log-level must be error, warn, info or debug, got "loud"');
  });
});
