import type { SettingsHolder } from '../simSettings.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { recognizeAgent, type AgentSpec } from './agentRecognizer.js';
import type { ClusterBackend } from './clusterBackend.js';
import type { ClusterCache } from './clusterCache.js';
import type { CniRuntime, PodInterface } from './cniRuntime.js';
import { findMissingConfigMap } from './missingConfigMaps.js';
import { podLabel, podSpecOf } from './podSpec.js';
import { oneShotFileOps } from './nodeScripts.js';
import { pendingPodStatus, runningPodStatus, sandboxIdOf, succeededPodStatus } from './podStatusBuilder.js';

/** Where a pod is in the kubelet's hands. */
export type PodState = 'starting' | 'blocked' | 'running' | 'stopping' | 'stopped' | 'succeeded';

/** The kubelet's record of a pod bound to one of our nodes. */
export interface PodRecord {
  uid: string;
  namespace: string;
  name: string;
  label: string;
  node: string;
  pod: KubeObject;
  state: PodState;
  hostNetwork: boolean;
  /** When the kubelet first saw it (status.startTime). */
  startTime: string;
  startedAt?: string;
  ready: boolean;
  /** Interfaces, primary first (none for hostNetwork pods); fixed for the pod's life. */
  interfaces: PodInterface[];
  podIPs: string[];
  agent?: AgentSpec;
  /** Last failure posted, so a failure is reported once, not on every retry. */
  blockedMessage?: string;
  timer?: NodeJS.Timeout;
}

const NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';
/** How often a failing readiness probe is tried again. */
const READINESS_PERIOD_MS = 20;
const NETWORKS_STATUS_LEGACY = 'k8s.v1.cni.cncf.io/networks-status';

/**
 * The kubelet part of every simulated node: starts bound pods after timings.podStartMs (creating
 * their sandbox, or leaving them Pending/ContainerCreating while it cannot be created and retrying
 * whenever the node's CNI state or the ConfigMaps change), marks CNI agents ready after
 * timings.agentReadyMs, and stops pods marked for deletion after min(podStopMs, grace period),
 * running the agent's exit effects before deleting the pod with grace 0 and a uid precondition.
 * Writes to the cluster only from timers and deferred callbacks, never inside a watch handler.
 */
export class PodLifecycle {
  private readonly records = new Map<string, PodRecord>();
  private readonly byName = new Map<string, string>();
  private readonly byNode = new Map<string, Set<string>>();
  private retryAll = false;
  private readonly retryNodes = new Set<string>();
  private retryScheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      backend: ClusterBackend;
      settings: SettingsHolder;
      runtime: CniRuntime;
      cache: ClusterCache;
      /** A pod started or stopped running (the ground truth re-evaluates it). */
      onPodChanged: (uid: string) => void;
      log: (line: string) => void;
      /**
       * The pod's readiness probe, where the simulator can answer it (an httpGet probe on a port it
       * serves for the pod): resolves whether it passes now. Undefined: the pod is Ready once started.
       */
      readinessProbe?: ((pod: KubeObject) => (() => Promise<boolean>) | undefined) | undefined;
    },
  ) {}

  /** Feeds a pod watch event. */
  handlePodEvent(ev: WatchEvent): void {
    const pod = ev.object;
    const uid = pod.metadata.uid ?? '';
    if (ev.type === 'DELETED') {
      this.finalize(uid);
      return;
    }
    const node = podSpecOf(pod).nodeName;
    if (!this.deps.runtime.isOurNode(node)) return;
    let rec = this.records.get(uid);
    if (!rec) {
      rec = this.newRecord(pod, node);
      this.deps.runtime.podBound(pod);
      if (!pod.metadata.deletionTimestamp) this.schedule(rec, this.deps.settings.get().timings.podStartMs, () => this.start(rec!));
    } else {
      // Labels decide which NetworkPolicies select the pod and its peers.
      const relabelled = JSON.stringify(rec.pod.metadata.labels) !== JSON.stringify(pod.metadata.labels);
      rec.pod = pod;
      if (relabelled && rec.state === 'running') this.deps.onPodChanged(uid);
    }
    if (pod.metadata.deletionTimestamp && rec.state !== 'stopping' && rec.state !== 'stopped') this.beginStop(rec);
  }

  /** Retries starting blocked pods on a node (or all nodes) soon, once per macrotask. */
  retryBlocked(node?: string): void {
    if (node === undefined) this.retryAll = true;
    else this.retryNodes.add(node);
    this.retryScheduled ??= setImmediate(() => {
      this.retryScheduled = undefined;
      const all = this.retryAll;
      const nodes = new Set(this.retryNodes);
      this.retryAll = false;
      this.retryNodes.clear();
      for (const rec of this.records.values()) {
        if (rec.state === 'blocked' && (all || nodes.has(rec.node))) void this.start(rec);
      }
    });
  }

  /** The record of a pod by namespace and name. */
  recordByName(namespace: string, name: string): PodRecord | undefined {
    const uid = this.byName.get(`${namespace}/${name}`);
    return uid === undefined ? undefined : this.records.get(uid);
  }

  /** The record of a pod by uid. */
  record(uid: string): PodRecord | undefined {
    return this.records.get(uid);
  }

  /** Uids of the pods bound to a node. */
  uidsOnNode(node: string): Iterable<string> {
    return this.byNode.get(node) ?? [];
  }

  /** Every pod record. */
  allRecords(): IterableIterator<PodRecord> {
    return this.records.values();
  }

  /** Stops all timers; nothing is written afterwards. */
  stop(): void {
    this.stopped = true;
    for (const rec of this.records.values()) clearTimeout(rec.timer);
    if (this.retryScheduled) clearImmediate(this.retryScheduled);
  }

  private newRecord(pod: KubeObject, node: string): PodRecord {
    const rec: PodRecord = {
      uid: pod.metadata.uid ?? '',
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      label: podLabel(pod),
      node,
      pod,
      state: 'starting',
      hostNetwork: podSpecOf(pod).hostNetwork === true,
      startTime: isoNow(),
      ready: false,
      interfaces: [],
      podIPs: [],
    };
    this.records.set(rec.uid, rec);
    this.byName.set(`${rec.namespace}/${rec.name}`, rec.uid);
    let onNode = this.byNode.get(node);
    if (!onNode) this.byNode.set(node, (onNode = new Set()));
    onNode.add(rec.uid);
    return rec;
  }

  private schedule(rec: PodRecord, delayMs: number, fn: () => Promise<void> | void): void {
    clearTimeout(rec.timer);
    if (this.stopped) return;
    rec.timer = setTimeout(() => {
      rec.timer = undefined;
      void fn();
    }, delayMs);
  }

  private async start(rec: PodRecord): Promise<void> {
    if (this.stopped || (rec.state !== 'starting' && rec.state !== 'blocked')) return;
    const { runtime, cache, settings } = this.deps;
    const missing = findMissingConfigMap(rec.pod, cache.configMap);
    if (missing) return this.block(rec, missing.message, missing.reason, missing.eventReason);
    const hostIP = runtime.addressingOf(rec.node)?.internalIP ?? '';
    let networkStatus: string | undefined;
    if (rec.hostNetwork) rec.podIPs = [hostIP];
    else {
      const sandbox = runtime.createSandbox(rec.pod, cache.nad);
      if (!sandbox.ok) {
        const message = sandbox.reason === 'NetworkNotReady' ? sandbox.message : `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${sandboxIdOf(rec.pod)}": ${sandbox.message}`;
        return this.block(rec, message, undefined, sandbox.reason === 'NetworkNotReady' ? 'NetworkNotReady' : 'FailedCreatePodSandBox');
      }
      rec.interfaces = sandbox.interfaces;
      rec.podIPs = [sandbox.interfaces[0]!.ip];
      if (sandbox.multus) networkStatus = multusNetworkStatus(sandbox.interfaces);
    }
    rec.state = 'running';
    rec.startedAt = isoNow();
    rec.blockedMessage = undefined;
    const s = settings.get();
    const fileOps = oneShotFileOps(rec.pod, s.cniConfDir);
    if (fileOps) return this.complete(rec, fileOps);
    rec.agent = recognizeAgent(rec.pod, cache.configMap, { cniConfDir: s.cniConfDir, nodeName: rec.node, clusterCIDR: s.clusterCIDR, customResources: cache.customResources, node: cache.node(rec.node) });
    const probe = rec.agent ? undefined : this.deps.readinessProbe?.(rec.pod);
    rec.ready = !rec.agent && !probe;
    if (rec.agent) {
      runtime.agentStarted(rec.node, rec.uid, rec.label, rec.agent);
      this.schedule(rec, s.timings.agentReadyMs, () => this.markReady(rec));
    } else if (probe) this.schedule(rec, 0, () => this.probeReadiness(rec, probe));
    this.deps.onPodChanged(rec.uid);
    if (networkStatus) await this.write(rec, () => this.deps.backend.patch('pods', rec.namespace, rec.name, { metadata: { annotations: { [NETWORK_STATUS]: networkStatus, [NETWORKS_STATUS_LEGACY]: networkStatus } } }));
    await this.postRunningStatus(rec);
  }

  /** A pod whose containers only move files: their operations happen, then it Succeeds (and gives up its sandbox). */
  private async complete(rec: PodRecord, ops: NonNullable<ReturnType<typeof oneShotFileOps>>): Promise<void> {
    const { runtime } = this.deps;
    runtime.applyFileOps(rec.node, ops, rec.label);
    rec.state = 'succeeded';
    const hostIP = runtime.addressingOf(rec.node)?.internalIP ?? '';
    const status = succeededPodStatus(rec.pod, { hostIP, podIPs: rec.podIPs, startTime: rec.startTime, startedAt: rec.startedAt ?? rec.startTime, finishedAt: isoNow() });
    runtime.releaseSandbox(rec.uid);
    rec.interfaces = [];
    this.deps.onPodChanged(rec.uid);
    await this.write(rec, () => this.deps.backend.patchStatus('pods', rec.namespace, rec.name, status));
  }

  // As the kubelet's prober: Ready once the probe passes, tried again every READINESS_PERIOD_MS
  // (the simulator's own period: everything in it answers within milliseconds).
  private async probeReadiness(rec: PodRecord, probe: () => Promise<boolean>): Promise<void> {
    if (rec.state !== 'running' || rec.ready) return;
    const passed = await probe().catch(() => false);
    if (rec.state !== 'running' || rec.ready) return;
    if (!passed) {
      this.schedule(rec, READINESS_PERIOD_MS, () => this.probeReadiness(rec, probe));
      return;
    }
    rec.ready = true;
    await this.postRunningStatus(rec);
  }

  private async markReady(rec: PodRecord): Promise<void> {
    if (rec.state !== 'running' || rec.ready) return;
    rec.ready = true;
    this.deps.runtime.agentReady(rec.node, rec.uid);
    await this.postRunningStatus(rec);
  }

  private async postRunningStatus(rec: PodRecord): Promise<void> {
    const hostIP = this.deps.runtime.addressingOf(rec.node)?.internalIP ?? '';
    const status = runningPodStatus(rec.pod, { hostIP, podIPs: rec.podIPs, startTime: rec.startTime, startedAt: rec.startedAt ?? rec.startTime, ready: rec.ready, now: isoNow() });
    await this.write(rec, () => this.deps.backend.patchStatus('pods', rec.namespace, rec.name, status));
  }

  private async block(rec: PodRecord, message: string, reason: string | undefined, eventReason: string): Promise<void> {
    rec.state = 'blocked';
    if (rec.blockedMessage === message) return;
    rec.blockedMessage = message;
    const hostIP = this.deps.runtime.addressingOf(rec.node)?.internalIP ?? '';
    await this.write(rec, () => this.deps.backend.patchStatus('pods', rec.namespace, rec.name, pendingPodStatus(rec.pod, { hostIP, startTime: rec.startTime, now: isoNow(), message, reason })));
    await this.recordEvent(rec, eventReason, message);
  }

  private beginStop(rec: PodRecord): void {
    rec.state = 'stopping';
    const graceSeconds = rec.pod.metadata.deletionGracePeriodSeconds ?? podSpecOf(rec.pod).terminationGracePeriodSeconds ?? 30;
    const delay = Math.min(this.deps.settings.get().timings.podStopMs, Math.max(0, graceSeconds) * 1000);
    this.schedule(rec, delay, () => this.finishStop(rec));
  }

  private async finishStop(rec: PodRecord): Promise<void> {
    if (rec.state !== 'stopping') return;
    rec.state = 'stopped';
    this.runExitEffects(rec);
    this.deps.onPodChanged(rec.uid);
    try {
      await this.deps.backend.delete('pods', rec.namespace, rec.name, { gracePeriodSeconds: 0, uid: rec.uid });
    } catch (e) {
      // The API may be briefly unavailable (injected faults, a real control plane): try again.
      this.deps.log(`kubelet: deleting pod ${rec.label} failed, retrying: ${errorText(e)}`);
      rec.state = 'stopping';
      this.schedule(rec, 500, () => this.finishStop(rec));
    }
  }

  private runExitEffects(rec: PodRecord): void {
    if (!rec.agent) return;
    this.deps.runtime.agentExited(rec.node, rec.uid);
    rec.agent = undefined;
  }

  private finalize(uid: string): void {
    const rec = this.records.get(uid);
    if (!rec) return;
    clearTimeout(rec.timer);
    // Deleted without our stop (force deletion): its containers are killed now, exit hooks included.
    this.runExitEffects(rec);
    const wasRunning = rec.state === 'running' || rec.state === 'stopping';
    rec.state = 'stopped';
    this.records.delete(uid);
    if (this.byName.get(`${rec.namespace}/${rec.name}`) === uid) this.byName.delete(`${rec.namespace}/${rec.name}`);
    this.byNode.get(rec.node)?.delete(uid);
    this.deps.runtime.releaseSandbox(uid);
    this.deps.runtime.podGone(uid);
    if (wasRunning) this.deps.onPodChanged(rec.uid);
  }

  private async write(rec: PodRecord, fn: () => Promise<void>): Promise<void> {
    if (this.stopped) return;
    try {
      await fn();
    } catch (e) {
      // A pod deleted meanwhile is not an error for a kubelet.
      if (this.records.has(rec.uid)) this.deps.log(`kubelet: updating pod ${rec.label} failed: ${errorText(e)}`);
    }
  }

  private async recordEvent(rec: PodRecord, reason: string, message: string): Promise<void> {
    const now = isoNow();
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${rec.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`, namespace: rec.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: rec.namespace, name: rec.name, uid: rec.uid },
      reason,
      message,
      type: 'Warning',
      source: { component: 'kubelet', host: rec.node },
      reportingComponent: 'kubelet',
      reportingInstance: rec.node,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.write(rec, async () => {
      await this.deps.backend.create('events', event);
    });
  }
}

/** The network-status annotation Multus writes: one entry per interface, the primary marked default. */
export function multusNetworkStatus(interfaces: readonly PodInterface[]): string {
  return JSON.stringify(
    interfaces.map((i, n) => ({
      name: i.cniName,
      interface: i.name,
      ips: [i.ip],
      mac: macOf(i.ip),
      ...(n === 0 ? { default: true } : {}),
      dns: {},
    })),
    null,
    2,
  );
}

// The bridge/veth plugins derive a locally administered MAC from the IPv4 address (0a:58:…).
function macOf(ip: string): string {
  return ['0a', '58', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
