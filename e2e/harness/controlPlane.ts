/**
 * A real Kubernetes control plane for the e2e suite: etcd, kube-apiserver, kube-controller-manager
 * and kube-scheduler built by e2e/controlplane/build.sh, run as host processes on 127.0.0.1 with a
 * generated PKI in a temp dir. No kubelets: the node/CNI model plays them (see realCluster.ts).
 *
 * Flags and order follow e2e/controlplane/smoke.sh (the bash reference): start etcd → apiserver
 * (/readyz with the admin cert) → KCM + scheduler; stop strictly in reverse, one at a time, each
 * with a grace period before SIGKILL, every component in its own session/process group. A
 * watchdog process kills the groups if this process dies without stopping them (SIGKILL, crash).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where build.sh and the binaries live. */
export const CONTROL_PLANE_DIR = resolve(import.meta.dirname, '..', 'controlplane');
export const CONTROL_PLANE_BIN = join(CONTROL_PLANE_DIR, 'bin');

/** The four components, in start order. */
export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';
const COMPONENTS: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** How to start a control plane. Every field is optional. */
export interface ControlPlaneOptions {
  /** Deadline for each readiness wait (ms); 120 s by default (2 cores, cold page cache). */
  readyTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL for each component on stop (ms); 15 s by default. */
  stopGraceMs?: number;
  /** Keep the temp dir (logs, certs) after stop; also E2E_KEEP=1. */
  keepDir?: boolean;
  /** Extra flags appended per component (e.g. faster node monitor settings). */
  extraFlags?: Partial<Record<ComponentName, string[]>>;
  /**
   * KCM --node-monitor-grace-period: how long without a Lease renewal before a node turns
   * Ready=Unknown. 40 s by default: the model renews every 10 s, as a kubelet does, and a real
   * cluster's grace is 40–50 s; a shorter grace risks nodes flapping on a loaded 2-core runner.
   * Tests that kill nodes can lower it (monitor period is 1 s, startup grace 20 s).
   */
  nodeMonitorGracePeriod?: string;
  /** apiserver --default-not-ready/unreachable-toleration-seconds (300 = Kubernetes' default). */
  defaultTolerationSeconds?: number;
  /** Progress lines (timings, paths). */
  log?: (line: string) => void;
}

/** Ports the components listen on (all on 127.0.0.1). */
export interface ControlPlanePorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

/** Paths of the generated PKI (absolute). */
export interface ControlPlanePki {
  dir: string;
  caCert: string;
  caKey: string;
  adminCert: string;
  adminKey: string;
  /** Serving certificate the simulated kubelets present on port 10250 (kube-apiserver skips verification without --kubelet-certificate-authority). */
  kubeletCert: string;
  kubeletKey: string;
}

/** Seconds from the start of the build step. */
export interface ControlPlaneTimings {
  /** build.sh (0.0x s when the binaries are up to date). */
  buildSeconds: number;
  /** From spawning etcd until the apiserver's /readyz answered. */
  apiserverReadySeconds: number;
  /** From spawning etcd until every component was ready and ServiceAccount default/default existed. */
  allReadySeconds: number;
}

interface Component {
  name: ComponentName;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: boolean;
  exitInfo?: string;
  exitPromise: Promise<void>;
}

/** A control plane that failed to start or stop: the message carries the component's log tail. */
export class ControlPlaneError extends Error {
  constructor(
    message: string,
    readonly component?: ComponentName,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

const live = new Set<ControlPlane>();

/**
 * A running control plane. Create with `ControlPlane.start()`; always `stop()` (also registered for
 * process exit, SIGINT and SIGTERM, and guarded by a watchdog against SIGKILL of this process).
 */
export class ControlPlane {
  private readonly components: Component[] = [];
  private watchdog: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  readonly server: string;
  readonly kubeconfigPath: string;
  /** Unix socket where kube-apiserver sends "cluster" egress (pods/proxy) as HTTP CONNECT; see podNetworkProxy.ts. */
  readonly podNetworkSocket: string;
  timings: ControlPlaneTimings = { buildSeconds: 0, apiserverReadySeconds: 0, allReadySeconds: 0 };

  private constructor(
    readonly dir: string,
    readonly pki: ControlPlanePki,
    readonly ports: ControlPlanePorts,
    private readonly opts: ControlPlaneOptions,
  ) {
    this.server = `https://127.0.0.1:${ports.apiserver}`;
    this.kubeconfigPath = join(dir, 'admin.kubeconfig');
    this.podNetworkSocket = join(dir, 'pod-network.sock');
  }

  /** Builds (or reuses) the binaries, generates the PKI and starts the four components; resolves when all are ready. */
  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = opts.log ?? (() => {});
    const t0 = performance.now();
    ensureBinaries(log);
    const buildSeconds = (performance.now() - t0) / 1000;
    let lastError: unknown;
    // Free ports are picked, released and then bound by the components: another process can take
    // one in between. Retry on a bind failure with new ports.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), 'cni-e2e-'));
      const pki = generatePki(join(dir, 'pki'));
      const cp = new ControlPlane(dir, pki, await freePorts(), opts);
      live.add(cp);
      installExitHandlers();
      try {
        await cp.boot();
        cp.timings = { ...cp.timings, buildSeconds };
        log(`control plane ready in ${cp.timings.allReadySeconds.toFixed(1)} s (apiserver ${cp.timings.apiserverReadySeconds.toFixed(1)} s, build step ${buildSeconds.toFixed(2)} s); dir ${dir}`);
        return cp;
      } catch (e) {
        lastError = e;
        const portClash = e instanceof ControlPlaneError && /address already in use/.test(e.message);
        await cp.stop({ keepDir: !portClash && cp.keepDir() });
        if (!portClash) throw e;
        log(`attempt ${attempt}: a port was taken meanwhile; retrying with new ports`);
      }
    }
    throw lastError instanceof Error ? lastError : new ControlPlaneError(String(lastError));
  }

  /** The last lines of a component's log. */
  logTail(name: ComponentName, lines = 40): string {
    const file = join(this.dir, 'logs', `${name}.log`);
    if (!existsSync(file)) return '(no log)';
    const all = readFileSync(file, 'utf8').split('\n');
    return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
  }

  /** Whether every component is still running. */
  healthy(): boolean {
    return this.components.length === COMPONENTS.length && this.components.every((c) => !c.exited);
  }

  /**
   * Stops the components in reverse start order, one at a time (the apiserver's graceful shutdown
   * still talks to etcd), each with SIGTERM then SIGKILL after the grace; removes the temp dir.
   */
  stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.keepDir ?? this.keepDir());
    return this.stopping;
  }

  private keepDir(): boolean {
    return this.opts.keepDir ?? process.env.E2E_KEEP === '1';
  }

  private async doStop(keepDir: boolean): Promise<void> {
    const grace = this.opts.stopGraceMs ?? 15_000;
    const problems: string[] = [];
    for (const c of [...this.components].reverse()) {
      const t = performance.now();
      const killed = await stopGroup(c, grace);
      if (killed) problems.push(`${c.name} did not stop within ${grace} ms of SIGTERM; killed`);
      this.opts.log?.(`stopped ${c.name} in ${((performance.now() - t) / 1000).toFixed(1)} s${killed ? ' (SIGKILL)' : ''}`);
    }
    this.watchdog?.kill('SIGKILL');
    live.delete(this);
    if (keepDir) this.opts.log?.(`kept ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
    if (problems.length) this.opts.log?.(problems.join('; '));
  }

  /** Synchronous last resort (process 'exit'): SIGKILL every group, remove the dir. */
  killNow(): void {
    for (const c of [...this.components].reverse()) killGroup(c.pid, 'SIGKILL');
    this.watchdog?.kill('SIGKILL');
    live.delete(this);
    if (!this.keepDir()) rmSync(this.dir, { recursive: true, force: true });
  }

  private async boot(): Promise<void> {
    const { dir, pki, ports } = this;
    const readyMs = this.opts.readyTimeoutMs ?? 120_000;
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(this.kubeconfigPath, adminKubeconfig(this.server, pki), { mode: 0o600 });
    writeFileSync(join(dir, 'egress-selector.yaml'), egressSelectorConfig(this.podNetworkSocket));
    this.startWatchdog();
    const t0 = performance.now();

    this.spawnComponent('etcd', [
      '--name=node0',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${ports.etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=node0=http://127.0.0.1:${ports.etcdPeer}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync=true',
      '--auto-compaction-retention=1',
      '--quota-backend-bytes=8589934592',
      '--log-level=warn',
    ]);
    await this.waitReady('etcd', 'etcd /health', readyMs, async () => {
      const r = await httpGet(`http://127.0.0.1:${ports.etcdClient}/health`);
      return r.status === 200 && /"health":"true"/.test(r.body);
    });

    const tolerationSeconds = this.opts.defaultTolerationSeconds ?? 300;
    this.spawnComponent('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      `--tls-cert-file=${join(pki.dir, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki.dir, 'apiserver.key')}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki.dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki.dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      `--default-not-ready-toleration-seconds=${tolerationSeconds}`,
      `--default-unreachable-toleration-seconds=${tolerationSeconds}`,
      // pods/proxy (and kubelet traffic) leave the apiserver as HTTP CONNECT on this socket, so the
      // simulated pods keep the simulator's pod IPs (kube-apiserver refuses loopback pod IPs).
      `--egress-selector-config-file=${join(dir, 'egress-selector.yaml')}`,
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=1',
    ]);
    await this.waitReady('kube-apiserver', 'kube-apiserver /readyz (admin client cert)', readyMs, async () => (await this.adminGet('/readyz')).status === 200);
    const apiserverReadySeconds = (performance.now() - t0) / 1000;

    const kc = this.kubeconfigPath;
    this.spawnComponent('kube-controller-manager', [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      // Without the apiserver's front-proxy (requestheader) CA, looking the delegated authentication
      // config up logs "missing content for CA bundle" every few seconds and drowns the log tails.
      '--authentication-skip-lookup=true',
      '--leader-elect=false',
      '--controllers=*',
      `--root-ca-file=${pki.caCert}`,
      `--service-account-private-key-file=${join(pki.dir, 'sa.key')}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      // No --allocate-node-cidrs: the node model sets spec.podCIDR when it registers a node (set-once
      // field), as the simulator does; node-ipam would race it with its own allocation.
      '--service-cluster-ip-range=10.96.0.0/16',
      '--node-monitor-period=1s',
      `--node-monitor-grace-period=${this.opts.nodeMonitorGracePeriod ?? '40s'}`,
      '--node-startup-grace-period=20s',
      '--node-eviction-rate=10',
      '--secondary-node-eviction-rate=10',
      '--kube-api-qps=100',
      '--kube-api-burst=200',
      '--v=1',
    ]);
    this.spawnComponent('kube-scheduler', [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      '--authentication-skip-lookup=true',
      '--leader-elect=false',
      '--v=1',
    ]);
    await this.waitReady('kube-controller-manager', 'kube-controller-manager /healthz', readyMs, async () => (await httpGet(`https://127.0.0.1:${ports.controllerManager}/healthz`)).status === 200);
    await this.waitReady('kube-scheduler', 'kube-scheduler /readyz', readyMs, async () => (await httpGet(`https://127.0.0.1:${ports.scheduler}/readyz`)).status === 200);
    // ServiceAccount admission refuses pods until the namespace's "default" ServiceAccount exists.
    for (const ns of ['default', 'kube-system']) {
      await this.waitReady('kube-controller-manager', `ServiceAccount ${ns}/default (created by KCM)`, readyMs, async () => (await this.adminGet(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200);
    }
    this.timings = { buildSeconds: 0, apiserverReadySeconds, allReadySeconds: (performance.now() - t0) / 1000 };
  }

  /** GET on the apiserver with the admin client certificate. */
  adminGet(path: string): Promise<{ status: number; body: string }> {
    return httpGet(`${this.server}${path}`, {
      ca: readFileSync(this.pki.caCert),
      cert: readFileSync(this.pki.adminCert),
      key: readFileSync(this.pki.adminKey),
    });
  }

  private spawnComponent(name: ComponentName, args: string[]): void {
    const logFile = join(this.dir, 'logs', `${name}.log`);
    const fd = openSync(logFile, 'a');
    // detached: setsid(), so the component and anything it forks form their own session and
    // process group (pgid == pid) and a terminal's Ctrl-C does not hit them before we stop them.
    const child = spawn(join(CONTROL_PLANE_BIN, name), [...args, ...(this.opts.extraFlags?.[name] ?? [])], { detached: true, stdio: ['ignore', fd, fd], cwd: this.dir });
    closeSync(fd);
    if (child.pid === undefined) throw new ControlPlaneError(`could not start ${name}`, name);
    const comp: Component = { name, child, pid: child.pid, logFile, exited: false, exitPromise: Promise.resolve() };
    comp.exitPromise = new Promise((res) => {
      child.once('exit', (code, signal) => {
        comp.exited = true;
        comp.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        res();
      });
    });
    child.unref();
    this.components.push(comp);
    writeFileSync(join(this.dir, 'pgids'), this.components.map((c) => String(c.pid)).join('\n') + '\n');
  }

  private async waitReady(name: ComponentName, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      const dead = this.components.find((c) => c.exited);
      if (dead) throw new ControlPlaneError(`${dead.name} exited (${dead.exitInfo}) while waiting for ${what}; last log lines:\n${this.logTail(dead.name)}`, dead.name);
      try {
        if (await check()) {
          this.opts.log?.(`${what}: ready`);
          return;
        }
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > deadline) {
        throw new ControlPlaneError(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}; last log lines of ${name}:\n${this.logTail(name)}`, name);
      }
      await sleep(200);
    }
  }

  /**
   * A detached shell that outlives us: when this process is gone (even by SIGKILL), it stops the
   * components listed in dir/pgids in reverse order and removes the dir.
   */
  private startWatchdog(): void {
    const script = [
      'parent=$1; dir=$2',
      'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
      '[ -f "$dir/pgids" ] || exit 0',
      'for pg in $(tac "$dir/pgids"); do',
      '  kill -TERM -- "-$pg" 2>/dev/null || continue',
      '  for i in $(seq 50); do kill -0 -- "-$pg" 2>/dev/null || break; sleep 0.1; done',
      '  kill -KILL -- "-$pg" 2>/dev/null',
      'done',
      '[ "${E2E_KEEP:-}" = 1 ] || rm -rf "$dir"',
    ].join('\n');
    this.watchdog = spawn('bash', ['-c', script, 'e2e-watchdog', String(process.pid), this.dir], { detached: true, stdio: 'ignore' });
    this.watchdog.unref();
  }
}

/** Runs build.sh (a no-op when the binaries are up to date; about 4.5 min cold on 2 cores). */
export function ensureBinaries(log: (line: string) => void = () => {}): void {
  const t = performance.now();
  const r = spawnSync(join(CONTROL_PLANE_DIR, 'build.sh'), [], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0) {
    throw new ControlPlaneError(`e2e/controlplane/build.sh failed (${r.error?.message ?? `exit ${r.status}`}):\n${out.split('\n').slice(-40).join('\n')}`);
  }
  log(`build.sh: ${out.split('\n').slice(-6).join(' | ')} (${((performance.now() - t) / 1000).toFixed(2)} s)`);
}

/** Stops every running control plane (signal handlers, global teardown). */
export async function stopAllControlPlanes(): Promise<void> {
  await Promise.all([...live].map((cp) => cp.stop()));
}

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', () => {
    for (const cp of [...live]) cp.killNow();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void stopAllControlPlanes().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  return killGroup(pgid, 0 as unknown as NodeJS.Signals);
}

/** SIGTERM the group, wait for the leader to exit and the group to empty, SIGKILL after the grace. Returns whether SIGKILL was needed. */
async function stopGroup(c: Component, graceMs: number): Promise<boolean> {
  if (!killGroup(c.pid, 'SIGTERM')) return false;
  const deadline = Date.now() + graceMs;
  await within(c.exitPromise, graceMs);
  while (groupAlive(c.pid) && Date.now() < deadline) await sleep(100);
  if (!groupAlive(c.pid) && c.exited) return false;
  killGroup(c.pid, 'SIGKILL');
  await within(c.exitPromise, 5_000);
  return true;
}

/** Waits for a promise at most ms, without leaving a timer behind that keeps the process alive. */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** One CA; apiserver serving cert (SANs for 127.0.0.1); admin client cert in system:masters; SA key pair. */
function generatePki(dir: string): ControlPlanePki {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const ossl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new ControlPlaneError(`openssl ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  };
  writeFileSync(
    p('apiserver.ext'),
    [
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
      'extendedKeyUsage=serverAuth',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      '',
    ].join('\n'),
  );
  writeFileSync(p('admin.ext'), ['extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature,keyEncipherment', ''].join('\n'));
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=cni-migration-e2e-ca', '-keyout', p('ca.key'), '-out', p('ca.crt'));
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kube-apiserver', '-keyout', p('apiserver.key'), '-out', p('apiserver.csr'));
  ossl('x509', '-req', '-in', p('apiserver.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '3650', '-out', p('apiserver.crt'), '-extfile', p('apiserver.ext'));
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/O=system:masters/CN=admin', '-keyout', p('admin.key'), '-out', p('admin.csr'));
  ossl('x509', '-req', '-in', p('admin.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '3650', '-out', p('admin.crt'), '-extfile', p('admin.ext'));
  writeFileSync(p('kubelet.ext'), ['subjectAltName=DNS:localhost,IP:127.0.0.1', 'extendedKeyUsage=serverAuth', 'keyUsage=critical,digitalSignature,keyEncipherment', ''].join('\n'));
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=sim-kubelet', '-keyout', p('kubelet.key'), '-out', p('kubelet.csr'));
  ossl('x509', '-req', '-in', p('kubelet.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '3650', '-out', p('kubelet.crt'), '-extfile', p('kubelet.ext'));
  ossl('genrsa', '-out', p('sa.key'), '2048');
  ossl('rsa', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub'));
  return { dir, caCert: p('ca.crt'), caKey: p('ca.key'), adminCert: p('admin.crt'), adminKey: p('admin.key'), kubeletCert: p('kubelet.crt'), kubeletKey: p('kubelet.key') };
}

/** kubeconfig with absolute certificate paths (kubectl, KCM, the scheduler, HttpBackend). */
function adminKubeconfig(server: string, pki: ControlPlanePki): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: e2e',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${pki.caCert}`,
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate: ${pki.adminCert}`,
    `    client-key: ${pki.adminKey}`,
    'contexts:',
    '- name: e2e',
    '  context:',
    '    cluster: e2e',
    '    user: admin',
    'current-context: e2e',
    '',
  ].join('\n');
}

function egressSelectorConfig(socket: string): string {
  return [
    'apiVersion: apiserver.k8s.io/v1beta1',
    'kind: EgressSelectorConfiguration',
    'egressSelections:',
    '- name: cluster',
    '  connection:',
    '    proxyProtocol: HTTPConnect',
    '    transport:',
    '      uds:',
    `        udsName: ${socket}`,
    '',
  ].join('\n');
}

/** Five distinct free ports on 127.0.0.1 (bound at once, then released). */
async function freePorts(): Promise<ControlPlanePorts> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const s = net.createServer();
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => res());
      });
      servers.push(s);
    }
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
    return { etcdClient: ports[0]!, etcdPeer: ports[1]!, apiserver: ports[2]!, controllerManager: ports[3]!, scheduler: ports[4]! };
  } finally {
    await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  }
}

/** A GET with a 5 s timeout; https without a CA skips verification (KCM/scheduler self-signed serving certs). */
function httpGet(url: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {}): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method: 'GET', timeout: 5_000, ...(u.protocol === 'https:' ? { ...tls, rejectUnauthorized: tls.ca !== undefined } : {}) }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', rej);
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
