import type { AgentFile, AgentSpec, DatapathSpec } from './agentRecognizer.js';
import { isCniConfigFileName, parseCniFile } from './cniConfig.js';
import type { NodeFileOp } from './nodeScripts.js';

/** The file name Cilium ≤1.13 wrote; the ≥1.14 config manager renames it away when it manages another. */
const LEGACY_CILIUM_CONF = '05-cilium.conf';

/** A file in a node's CNI config directory. */
export interface CniFile {
  name: string;
  content: string;
  /** Pod ("ns/name") that wrote it last. */
  writtenBy: string;
  /** Datapath of the writing agent, if it provides one (lets Calico's plugin on Canal map to flannel). */
  network?: string;
  writtenAt: string;
}

/** A CNI agent pod whose containers are running on the node. */
export interface RunningAgent {
  uid: string;
  pod: string;
  spec: AgentSpec;
  ready: boolean;
}

/** A network's datapath on the node while it is up. */
export interface DatapathState {
  network: string;
  spec: DatapathSpec;
  upSince: string;
}

/** What nodeState() shows for one node (a debug view). */
export interface NodeCniView {
  node: string;
  confDir: string;
  files: { name: string; writtenBy: string; network?: string; writtenAt: string; content: unknown }[];
  /** Running agents; ignoredWrites lists files they write where the kubelet never looks. */
  agents: { pod: string; network?: string; ready: boolean; files: string[]; ignoredWrites: { path: string; reason: string }[] }[];
  datapaths: { network: string; upSince: string; overlay: DatapathSpec['overlay']; pool: DatapathSpec['pool']; source: string; boundAgentPods: number }[];
}

/**
 * One node's CNI state: the kubelet's config directory, the agents running there and each
 * network's datapath.
 *
 * Datapath rule: a network's datapath comes up on a node when an agent for that network first
 * runs there, and stays up for as long as any pod of an agent for that network is still bound to
 * the node (pending, running or terminating). It goes down only when no such pod is bound any more,
 * i.e. the agent was taken off the node. Why: BPF programs, vxlan devices and routes outlive the
 * agent process, which is why restarting or rolling a CNI DaemonSet does not cut traffic; but when
 * the agent is removed from a node, that node leaves the network. (The caller applies a short
 * replacement grace before calling takeDownIfUnbound, to cover a DaemonSet's delete-then-create gap.)
 */
export class NodeCniState {
  private readonly files = new Map<string, CniFile>();
  private readonly agents = new Map<string, RunningAgent>();
  private felixRan = false;
  private readonly datapaths = new Map<string, DatapathState>();
  private readonly boundAgentPods = new Map<string, Set<string>>();
  private sortedCache: CniFile[] | undefined;

  constructor(
    readonly nodeName: string,
    readonly confDir: string,
  ) {}

  /** The files the kubelet considers (libcni's extensions), lexically sorted: the first one decides. */
  configFiles(): readonly CniFile[] {
    this.sortedCache ??= [...this.files.values()].filter((f) => isCniConfigFileName(f.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.sortedCache;
  }

  /** Every file in the directory, including renamed-away ones. */
  allFiles(): readonly CniFile[] {
    return [...this.files.values()];
  }

  /** An agent's containers started: its "running" files are written and its datapath comes up. */
  agentStarted(uid: string, pod: string, spec: AgentSpec): void {
    this.agents.set(uid, { uid, pod, spec, ready: false });
    this.writeFiles(pod, spec, 'running');
    if (spec.datapath) {
      // A replacement agent's settings take effect (it re-programs the datapath), but the datapath never blinked.
      const current = this.datapaths.get(spec.datapath.network);
      this.datapaths.set(spec.datapath.network, { network: spec.datapath.network, spec: spec.datapath, upSince: current?.upSince ?? new Date().toISOString() });
    }
  }

  /** An agent became ready: files it writes only when ready appear. */
  agentReady(uid: string): void {
    const agent = this.agents.get(uid);
    if (!agent || agent.ready) return;
    agent.ready = true;
    this.writeFiles(agent.pod, agent.spec, 'ready');
  }

  /** An agent exited: it removes the files it removes on exit; the datapath is left to the bound-pod rule. */
  agentExited(uid: string): boolean {
    const agent = this.agents.get(uid);
    if (!agent) return false;
    this.agents.delete(uid);
    let removed = false;
    for (const f of agent.spec.files) {
      // cni-uninstall.sh removes by name, whoever wrote the file last.
      if (f.removeOnExit) removed = this.removeFile(f.name) || removed;
    }
    if (removed) this.runDirectoryWatchers();
    return true;
  }

  /**
   * A one-shot pod's `rm` / `mv` in the directory (a rollback restoring a backup, a clean-up).
   * A moved file keeps its content and datapath; a move onto an existing name replaces it. Running
   * exclusive Cilium agents see the change like any other write (and rename a restored config back).
   */
  applyFileOps(ops: readonly NodeFileOp[], by: string): void {
    let changed = false;
    for (const op of ops) {
      if (op.op === 'remove') {
        changed = this.removeFile(op.name) || changed;
        continue;
      }
      const f = this.files.get(op.from);
      if (!f || op.from === op.to) continue;
      this.files.delete(op.from);
      this.files.set(op.to, { ...f, name: op.to, writtenBy: by, writtenAt: new Date().toISOString() });
      this.sortedCache = undefined;
      changed = true;
    }
    if (changed) this.runDirectoryWatchers();
  }

  /** Whether an agent for the network is running here (what its CNI plugin needs to answer). */
  runningNetworks(): Set<string> {
    const out = new Set<string>();
    for (const a of this.agents.values()) if (a.spec.datapath) out.add(a.spec.datapath.network);
    return out;
  }

  /**
   * Whether felix enforces here: once it has run on the node, its iptables rules stay in force
   * while it restarts or after it went (felix does not flush them on exit).
   */
  runsFelix(): boolean {
    if (this.felixRan) return true;
    for (const a of this.agents.values()) if (a.spec.policyEngine === 'felix') this.felixRan = true;
    return this.felixRan;
  }

  /** Records that a pod of an agent for `network` is bound to this node. */
  agentPodBound(uid: string, network: string): void {
    let set = this.boundAgentPods.get(network);
    if (!set) this.boundAgentPods.set(network, (set = new Set()));
    set.add(uid);
  }

  /** Records that such a pod is gone; true when none is bound any more (the datapath may have to go). */
  agentPodUnbound(uid: string, network: string): boolean {
    const set = this.boundAgentPods.get(network);
    set?.delete(uid);
    return !set?.size && this.datapaths.has(network);
  }

  /** Whether the network's datapath is up with no agent pod bound for it (waiting for a replacement). */
  unbound(network: string): boolean {
    return this.datapaths.has(network) && !this.boundAgentPods.get(network)?.size;
  }

  /** Takes a network's datapath down if still no agent pod for it is bound; true if it went down. */
  takeDownIfUnbound(network: string): boolean {
    if (this.boundAgentPods.get(network)?.size) return false;
    return this.datapaths.delete(network);
  }

  /** A network's datapath, when up on this node. */
  datapath(network: string): DatapathState | undefined {
    return this.datapaths.get(network);
  }

  /** Every datapath up on this node. */
  upDatapaths(): DatapathState[] {
    return [...this.datapaths.values()];
  }

  /** The debug view of this node. */
  view(): NodeCniView {
    const parse = (content: string) => {
      try {
        return JSON.parse(content) as unknown;
      } catch {
        return content;
      }
    };
    return {
      node: this.nodeName,
      confDir: this.confDir,
      files: [...this.files.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((f) => ({ name: f.name, writtenBy: f.writtenBy, network: f.network, writtenAt: f.writtenAt, content: parse(f.content) })),
      agents: [...this.agents.values()].map((a) => ({
        pod: a.pod,
        network: a.spec.datapath?.network,
        ready: a.ready,
        files: a.spec.files.map((f) => f.name),
        ignoredWrites: a.spec.ignoredWrites.map((w) => ({ path: w.path, reason: w.reason })),
      })),
      datapaths: [...this.datapaths.values()].map((d) => ({
        network: d.network,
        upSince: d.upSince,
        overlay: d.spec.overlay,
        pool: d.spec.pool,
        source: d.spec.source,
        boundAgentPods: this.boundAgentPods.get(d.network)?.size ?? 0,
      })),
    };
  }

  private writeFiles(pod: string, spec: AgentSpec, when: AgentFile['when']): void {
    let wrote = false;
    for (const f of spec.files) {
      if (f.when !== when) continue;
      if (f.manager) {
        this.runCiliumManager(pod, spec, f);
        wrote = true;
        continue;
      }
      const content = f.generate === 'multus-auto' ? this.generateMultusAuto(f.name) : f.content;
      if (content === undefined) continue;
      if (spec.exclusive) this.renameOthersAway(f.name);
      this.files.set(f.name, { name: f.name, content, writtenBy: pod, network: spec.datapath?.network, writtenAt: new Date().toISOString() });
      this.sortedCache = undefined;
      wrote = true;
    }
    wrote = this.writePendingMultusAuto() || wrote;
    if (wrote) this.runDirectoryWatchers();
  }

  /**
   * Cilium's write-cni-file controller: writes the managed file unless the same bytes are already
   * there, renames a legacy 05-cilium.conf away, and with cni-exclusive every other config.
   */
  private runCiliumManager(pod: string, spec: AgentSpec, f: AgentFile): void {
    const current = this.files.get(f.name);
    if (current?.content !== f.content) {
      this.files.set(f.name, { name: f.name, content: f.content, writtenBy: pod, network: spec.datapath?.network, writtenAt: new Date().toISOString() });
      this.sortedCache = undefined;
    }
    for (const other of [...this.files.values()]) {
      if (other.name === f.name || !isCniConfigFileName(other.name)) continue;
      if (other.name === LEGACY_CILIUM_CONF || f.manager?.exclusive) this.renameAway(other);
    }
  }

  /**
   * The fsnotify watchers of running exclusive Cilium agents (cni-exclusive=true only): after
   * another writer changed the directory, each re-runs its controller. One pass per change, in
   * agent start order: two exclusive agents would fight forever on a real node.
   */
  private runDirectoryWatchers(): void {
    for (const agent of this.agents.values()) {
      for (const f of agent.spec.files) {
        if (!f.manager?.exclusive || (f.when === 'ready' && !agent.ready)) continue;
        this.runCiliumManager(agent.pod, agent.spec, f);
      }
    }
  }

  // Multus "auto" waits for a network config to delegate to: write its file once one exists.
  private writePendingMultusAuto(): boolean {
    let wrote = false;
    for (const agent of this.agents.values()) {
      for (const f of agent.spec.files) {
        if (f.generate !== 'multus-auto' || this.files.has(f.name) || (f.when === 'ready' && !agent.ready)) continue;
        const content = this.generateMultusAuto(f.name);
        if (content === undefined) continue;
        this.files.set(f.name, { name: f.name, content, writtenBy: agent.pod, writtenAt: new Date().toISOString() });
        this.sortedCache = undefined;
        wrote = true;
      }
    }
    return wrote;
  }

  private removeFile(name: string): boolean {
    if (!this.files.delete(name)) return false;
    this.sortedCache = undefined;
    return true;
  }

  // Cilium ≤1.12's cni-install.sh --cni-exclusive renames every other non-Cilium config to *.cilium_bak, so the runtime ignores it.
  private renameOthersAway(keep: string): void {
    for (const f of [...this.files.values()]) {
      if (f.name === keep || f.name.includes('cilium') || !isCniConfigFileName(f.name)) continue;
      this.renameAway(f);
    }
  }

  // mv NAME NAME.cilium_bak (replacing an older backup of the same name).
  private renameAway(f: CniFile): void {
    this.files.delete(f.name);
    this.files.set(`${f.name}.cilium_bak`, { ...f, name: `${f.name}.cilium_bak` });
    this.sortedCache = undefined;
  }

  // Multus "auto" delegates to the lexically first other (non-Multus) config, as its entrypoint does.
  private generateMultusAuto(ownName: string): string | undefined {
    for (const f of this.configFiles()) {
      if (f.name === ownName) continue;
      const parsed = parseCniFile(f.name, f.content);
      if (!parsed.ok || parsed.conf.multus) continue;
      const delegate = JSON.parse(f.content) as Record<string, unknown>;
      return JSON.stringify(
        {
          cniVersion: typeof delegate.cniVersion === 'string' ? delegate.cniVersion : '0.3.1',
          name: 'multus-cni-network',
          type: 'multus',
          kubeconfig: `${this.confDir}/multus.d/multus.kubeconfig`,
          delegates: [delegate],
        },
        null,
        2,
      );
    }
    return undefined;
  }
}
