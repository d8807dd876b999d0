import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster, openClusterFromText } from './cluster.js';
import { loadKubeconfig } from './kubeconfig.js';
import { ClusterUnreachableError } from './kubeErrors.js';

const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makePki(dir: string): Record<'ca' | 'caKey' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const ssl = (...args: string[]) => execFileSync(OPENSSL!, args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext');
  ssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=admin/O=system:masters');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: read('ca.crt'), caKey: read('ca.key'), serverCert: read('server.crt'), serverKey: read('server.key'), clientCert: read('client.crt'), clientKey: read('client.key') };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(server: string, cluster: string[], user: string[]): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${server}`,
    ...cluster.map((l) => `    ${l}`),
    'users:',
    '- name: u',
    '  user:',
    ...(user.length ? user.map((l) => `    ${l}`) : ['    {}']),
    'contexts:',
    '- name: x',
    '  context: {cluster: c, user: u}',
    'current-context: x',
  ].join('\n');
}

describe.skipIf(!OPENSSL)('KubeCluster over HTTPS', () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let server: https.Server;
  let url: string;
  const seenClientCN: (string | undefined)[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cni-tls-'));
    pki = makePki(dir);
    server = https.createServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seenClientCN.push(String(peer.subject?.CN));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ items: [{ metadata: { name: 'n1' } }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server against certificate-authority-data and presents the client certificate', async () => {
    const c = openClusterFromText(kubeconfig(url, [`certificate-authority-data: ${b64(pki.ca)}`], [`client-certificate-data: ${b64(pki.clientCert)}`, `client-key-data: ${b64(pki.clientKey)}`])).client;
    expect((await c.listNodes()).map((n) => n.metadata.name)).toEqual(['n1']);
    expect(seenClientCN.at(-1)).toBe('admin');
    c.close();
  });

  it('refuses a server it cannot verify, without leaking the key', async () => {
    const c = openClusterFromText(kubeconfig(url, [], [`client-certificate-data: ${b64(pki.clientCert)}`, `client-key-data: ${b64(pki.clientKey)}`])).client;
    const e = await c.listNodes().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClusterUnreachableError);
    expect((e as Error).message).toContain(url);
    expect((e as Error).message).not.toContain(b64(pki.clientKey).slice(0, 20));
    c.close();
  });

  it('insecure-skip-tls-verify skips verification', async () => {
    const c = openClusterFromText(kubeconfig(url, ['insecure-skip-tls-verify: true'], [])).client;
    expect(await c.listNodes()).toHaveLength(1);
    c.close();
  });

  it('certificate-authority files are resolved relative to the kubeconfig file', async () => {
    writeFileSync(join(dir, 'ca-copy.crt'), pki.ca);
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfig(url, ['certificate-authority: ca-copy.crt'], []));
    const loaded = loadKubeconfig({ kubeconfig: file });
    const c = new KubeCluster(loaded.kubeConfig);
    expect(await c.listNodes()).toHaveLength(1);
    c.close();
  });
});
