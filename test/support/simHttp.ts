import https from 'node:https';
import type { SimCluster } from '../../src/sim/simCluster.js';

/** Raw HTTPS request trusting the simulated cluster's certificate. */
export function simRequest(
  cluster: Pick<SimCluster, 'url' | 'token' | 'caCert'>,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${cluster.url}${path}`, { method, ca: cluster.caCert, headers: { Authorization: `Bearer ${cluster.token}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A minimal HTTP client for tests that drive a simulated cluster "by hand" through its REST API. */
export class SimHttp {
  constructor(private readonly cluster: Pick<SimCluster, 'url' | 'token' | 'caCert'>) {}

  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<any> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await simRequest(this.cluster, method, path, payload, payload !== undefined ? { 'Content-Type': contentType } : {});
    const json = res.text ? (JSON.parse(res.text) as unknown) : undefined;
    if (res.status >= 400) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${res.text}`), { status: res.status, body: json });
    return json;
  }

  get(path: string): Promise<any> {
    return this.request('GET', path);
  }

  mergePatch(path: string, body: unknown): Promise<any> {
    return this.request('PATCH', path, body, 'application/merge-patch+json');
  }

  /** Server-side apply of one object (create or update). */
  apply(obj: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string }; [field: string]: unknown }, path: string): Promise<any> {
    return this.request('PATCH', `${path}?fieldManager=test&force=true`, JSON.stringify(obj), 'application/apply-patch+yaml');
  }
}
