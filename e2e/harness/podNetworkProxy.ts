/**
 * The simulated pod network as kube-apiserver sees it. The apiserver is started with an
 * EgressSelectorConfiguration that sends its "cluster" traffic (pods/proxy, services/proxy,
 * kubelet connections) as HTTP CONNECT over a Unix socket; this server answers those CONNECTs and
 * serves the tunnelled HTTP requests from the node/CNI model (NetworkModel.proxy), looking the pod
 * up by the IP the apiserver dials (status.podIP). So pods keep the simulator's own pod IPs
 * (10.244.x.y), which kube-apiserver would refuse to proxy to if they were loopback addresses.
 *
 * Tunnels to port 10250 (the kubelet port every simulated node reports, dialled by node name) are
 * the kubelets' API: TLS with the harness's kubelet certificate, serving container logs the way
 * the simulator's API server does, so `kubectl logs` works against both backends.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { ApiError } from '../../src/sim/api/apiError.js';
import type { ClusterBackend } from '../../src/sim/model/clusterBackend.js';
import type { NetworkModel } from '../../src/sim/model/networkModel.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';

/** The kubelet port the model's nodes report in status.daemonEndpoints. */
const KUBELET_PORT = 10250;

/** The /etc/services entries Go's dialer would resolve for a named port. */
const SERVICE_PORTS: Record<string, number> = { http: 80, https: 443, 'http-alt': 8080 };

interface Target {
  host: string;
  port: number;
}

/** Serves CONNECT tunnels on a Unix socket and routes their HTTP requests to the model's pods. */
export class PodNetworkProxy {
  private readonly server: net.Server;
  private readonly http: http.Server;
  private readonly targets = new WeakMap<net.Socket, Target>();
  private readonly sockets = new Set<net.Socket>();
  private readonly podsByIp = new Map<string, { namespace: string; name: string; uid: string }>();
  /** hostNetwork pods by "nodeIP:port" of each TCP port they declare. */
  private readonly hostPods = new Map<string, { namespace: string; name: string; uid: string }>();
  private stopWatch: (() => void) | undefined;
  /** CONNECT requests seen, "ip:port" (for tests and diagnostics). */
  readonly connects: string[] = [];

  private readonly kubelet: http.Server;
  private readonly kubeletTls: tls.SecureContext | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly backend: ClusterBackend,
    private readonly model: NetworkModel,
    private readonly opts: { kubeletCert?: string; kubeletKey?: string; log?: (line: string) => void } = {},
  ) {
    this.http = http.createServer((req, res) => {
      void this.serve(req, res);
    });
    this.kubelet = http.createServer((req, res) => this.serveKubelet(req, res));
    this.kubeletTls = opts.kubeletCert && opts.kubeletKey ? tls.createSecureContext({ cert: readFileSync(opts.kubeletCert), key: readFileSync(opts.kubeletKey) }) : undefined;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Watches pods (IP → pod) and listens on the socket. */
  async start(): Promise<void> {
    this.stopWatch = await this.backend.watch('pods', (ev) => this.onPod(ev.type, ev.object));
    if (existsSync(this.socketPath)) rmSync(this.socketPath);
    await new Promise<void>((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(this.socketPath, () => res());
    });
  }

  async stop(): Promise<void> {
    this.stopWatch?.();
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
    this.http.close();
    this.kubelet.close();
  }

  private onPod(type: string, pod: KubeObject): void {
    const ips = new Set<string>(((pod.status?.podIPs ?? []) as { ip: string }[]).map((p) => p.ip));
    if (pod.status?.podIP) ips.add(pod.status.podIP as string);
    for (const [ip, p] of this.podsByIp) if (p.uid === pod.metadata.uid && (type === 'DELETED' || !ips.has(ip))) this.podsByIp.delete(ip);
    for (const [at, p] of this.hostPods) if (p.uid === pod.metadata.uid) this.hostPods.delete(at);
    if (type === 'DELETED') return;
    // hostNetwork pods share their node's IP: they are told apart by the ports they declare.
    if (pod.spec?.hostNetwork) {
      const ports = ((pod.spec.containers ?? []) as { ports?: { containerPort?: number; protocol?: string }[] }[]).flatMap((c) => c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
      for (const ip of ips) for (const p of ports) this.hostPods.set(`${ip}:${p.containerPort}`, { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' });
      return;
    }
    for (const ip of ips) this.podsByIp.set(ip, { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' });
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16_384) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const rest = head.subarray(end + 4);
      const m = /^CONNECT (\S+):([\w-]+) HTTP\/1\.[01]$/.exec(line);
      // kube-apiserver does not resolve a named container port in pods/NAME:PORT/proxy: it dials
      // "ip:name", which Go resolves through /etc/services. Do the same for the common names.
      const port = m ? (/^\d+$/.test(m[2]!) ? Number(m[2]) : SERVICE_PORTS[m[2]!]) : undefined;
      if (!m || port === undefined) {
        socket.end(`HTTP/1.1 503 Service Unavailable\r\n\r\n`);
        return;
      }
      const target = { host: m[1]!.replace(/^\[|\]$/g, ''), port };
      this.connects.push(`${target.host}:${target.port}`);
      this.targets.set(socket, target);
      if (target.port === KUBELET_PORT && !this.podsByIp.has(target.host)) {
        if (!this.kubeletTls) {
          socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
          return;
        }
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length) socket.unshift(rest);
        const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: this.kubeletTls });
        secure.on('error', () => socket.destroy());
        this.kubelet.emit('connection', secure);
        return;
      }
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (rest.length) socket.unshift(rest);
      // The tunnel now carries plain HTTP to "the pod": let node's HTTP server parse it.
      this.http.emit('connection', socket);
    };
    socket.on('data', onData);
  }

  /** The kubelet API subset kube-apiserver calls for `kubectl logs`: GET /containerLogs/{ns}/{pod}/{container}. */
  private serveKubelet(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/[^/?]+/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found\n');
      return;
    }
    // The same text as the simulated API server's pods/log (SimCluster's podLog hook).
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`simulated container log of ${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}\n`);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = this.targets.get(req.socket);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://pod.invalid');
    const pod = target ? (this.podsByIp.get(target.host) ?? this.hostPods.get(`${target.host}:${target.port}`)) : undefined;
    try {
      if (!target || !pod) throw new ApiError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${target?.host ?? '?'}:${target?.port ?? '?'}: connect: connection refused`);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'authorization') headers[k] = v;
      const out = await this.model.proxy(pod.namespace, pod.name, String(target.port), {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search.replace(/^\?/, ''),
        headers,
        body: Buffer.concat(chunks),
      });
      const body = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
      res.writeHead(out.status, { ...out.headers, 'content-length': String(body.length) });
      res.end(body);
    } catch (e) {
      // What the simulator's API server answers (a Status with 503 "connection refused"), passed
      // through by kube-apiserver's proxy as the "pod's" response.
      const err = e instanceof ApiError ? e : new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${e instanceof Error ? e.message : String(e)}`);
      if (!(e instanceof ApiError)) this.opts.log?.(`pod network proxy: ${err.message}`);
      const body = JSON.stringify(err.toStatus());
      res.writeHead(err.code, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    }
  }
}
