/**
 * The ledger: every action a run took, with who, when, step, node and result, kept in the cluster
 * (ConfigMaps kube-system/cni-migration-ledger[-N]) so it outlives the terminal and the CLI.
 * `status` shows it and a resumed run says where the last one stopped. Entries are appended with
 * merge patches that add keys (no read-modify-write, so no conflicts), in batches: at each node
 * and step end and every few seconds, which keeps it to about one request per node.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { KubeObject } from '../kube/kubeTypes.js';
import type { MigrationEvent } from './migrationEvents.js';

export const LEDGER = { namespace: 'kube-system', name: 'cni-migration-ledger', label: 'cni-migration.io/ledger' } as const;
/** Rolls over to the next ConfigMap before this many bytes (the API server's limit is 1 MiB). */
const ROLLOVER_BYTES = 700_000;

/** One line of the ledger. */
export interface LedgerEntry {
  /** ISO time. */
  at: string;
  /** The run's identity (kubeconfig user, host, pid). */
  who: string;
  /** What happened: an action's kind, or run / rollback. */
  what: string;
  step?: number | undefined;
  node?: string | undefined;
  result: 'started' | 'ok' | 'failed' | 'rolledBack' | 'finished' | 'stopped';
  detail?: string | undefined;
  ms?: number | undefined;
}

/** Turns engine events into ledger entries; remembers started actions so a failure names the one that failed. */
export class LedgerRecorder {
  private readonly pending = new Map<string, { what: string; detail: string; at: number }>();

  constructor(private readonly who: string) {}

  /** The entries one event makes (usually none or one). */
  entriesOf(e: MigrationEvent): LedgerEntry[] {
    const base = { who: this.who };
    switch (e.type) {
      case 'runStart':
        return [{ ...base, at: iso(e.at), what: 'run', result: 'started', detail: `${e.strategy} from ${e.source}, steps ${e.steps.join(',')}` }];
      case 'action':
        this.pending.set(key(e.step, e.node), { what: e.action.kind, detail: e.description, at: e.at });
        return [];
      case 'actionDone':
        this.pending.delete(key(e.step, e.node));
        return [{ ...base, at: iso(e.at), what: e.action.kind, step: e.step, node: e.node, result: 'ok', ms: e.ms }];
      case 'rollback':
        return [{ ...base, at: iso(e.at), what: 'rollback', step: e.step, node: e.node, result: e.ok ? 'rolledBack' : 'failed', detail: e.ok ? e.reason : `${e.reason}; rollback failed: ${e.error ?? '?'}` }];
      case 'runDone': {
        const failed = [...this.pending].map(([k, p]) => {
          const [step, node] = k.split('|');
          return { ...base, at: iso(e.at), what: p.what, step: Number(step), node: node || undefined, result: 'failed' as const, detail: clip(e.error ?? p.detail), ms: e.at - p.at };
        });
        this.pending.clear();
        return [...failed, { ...base, at: iso(e.at), what: 'run', result: e.ok ? 'finished' : 'stopped', detail: e.ok ? undefined : clip(e.error ?? '') }];
      }
      default:
        return [];
    }
  }
}

function key(step: number, node: string | undefined): string {
  return `${step}|${node ?? ''}`;
}
function iso(ms: number): string {
  return new Date(ms).toISOString();
}
function clip(s: string): string {
  return s.length > 500 ? `${s.slice(0, 497)}...` : s;
}

/** Appends entries to the ledger in batches; flush() writes what is buffered. */
export class LedgerWriter {
  private buffer: LedgerEntry[] = [];
  private seq = 0;
  private index = 0;
  private bytes = 0;
  private flushing: Promise<void> = Promise.resolve();
  private queued = false;
  private readonly timer: NodeJS.Timeout;
  private readonly runId: string;

  constructor(
    private readonly client: ClusterClient,
    startedAt: number,
    intervalMs = 5000,
    /** Told when a write fails (the run goes on: the ledger is a record, not a gate). */
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.runId = startedAt.toString(36);
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Starts after the ConfigMaps already there (a resumed migration appends to them). */
  async open(): Promise<void> {
    const existing = await readLedgerConfigMaps(this.client);
    const last = existing.at(-1);
    if (!last) return;
    this.index = ledgerIndex(last);
    this.bytes = JSON.stringify(last.data ?? {}).length;
  }

  add(entries: readonly LedgerEntry[]): void {
    this.buffer.push(...entries);
  }

  /**
   * Writes the buffered entries (one request; serialized with any flush in progress). Flushes asked
   * for while one is already waiting to start are that one: the nodes of a batch finishing together
   * make one write, not one each.
   */
  flush(): Promise<void> {
    if (this.queued) return this.flushing;
    this.queued = true;
    this.flushing = this.flushing.then(() => {
      this.queued = false;
      return this.write();
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    if (!this.buffer.length) return;
    const batch = this.buffer;
    this.buffer = [];
    const data: Record<string, string> = {};
    for (const entry of batch) data[`${this.runId}.${String(this.seq++).padStart(6, '0')}`] = JSON.stringify(entry);
    const size = JSON.stringify(data).length;
    if (this.bytes + size > ROLLOVER_BYTES && this.bytes > 0) {
      this.index++;
      this.bytes = 0;
    }
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: LEDGER.namespace, name: ledgerName(this.index) };
    try {
      try {
        await this.client.patchObject(ref, { type: 'merge', body: { data } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await this.client.createObject({ ...ref, metadata: { name: ref.name, namespace: ref.namespace, labels: { [LEDGER.label]: 'true', 'app.kubernetes.io/managed-by': 'cni-migration' } }, data });
      }
      this.bytes += size;
    } catch (e) {
      this.onError(`could not write the ledger (ConfigMap ${ref.namespace}/${ref.name}): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function ledgerName(index: number): string {
  return index === 0 ? LEDGER.name : `${LEDGER.name}-${index + 1}`;
}
function ledgerIndex(cm: KubeObject): number {
  const m = /-(\d+)$/.exec(cm.metadata.name ?? '');
  return cm.metadata.name === LEDGER.name || !m ? 0 : Number(m[1]) - 1;
}

async function readLedgerConfigMaps(client: ClusterClient): Promise<KubeObject[]> {
  const list = await client.listObjects({ apiVersion: 'v1', kind: 'ConfigMap' }, { namespace: LEDGER.namespace, labelSelector: LEDGER.label });
  return list.filter((c) => (c.metadata.name ?? '').startsWith(LEDGER.name)).sort((a, b) => ledgerIndex(a) - ledgerIndex(b));
}

/** Every entry of the ledger, oldest first; entries that do not parse are skipped. */
export async function readLedger(client: ClusterClient): Promise<LedgerEntry[]> {
  const out: { k: string; e: LedgerEntry }[] = [];
  for (const cm of await readLedgerConfigMaps(client)) {
    for (const [k, v] of Object.entries((cm as { data?: Record<string, string> }).data ?? {})) {
      try {
        out.push({ k: `${String(ledgerIndex(cm)).padStart(4, '0')}:${k}`, e: JSON.parse(v) as LedgerEntry });
      } catch {
        // A hand-edited or truncated value: the rest of the ledger still reads.
      }
    }
  }
  return out.sort((a, b) => (a.e.at < b.e.at ? -1 : a.e.at > b.e.at ? 1 : a.k < b.k ? -1 : 1)).map((x) => x.e);
}

/** How the last run ended, when it did not finish: stopped by a failure, or gone without a word (killed). */
export function lastRunEnding(entries: readonly LedgerEntry[]): string | undefined {
  let i = entries.length - 1;
  while (i >= 0 && entries[i]!.what !== 'run') i--;
  if (i < 0) return undefined;
  const run = entries[i]!;
  if (run.result === 'finished') return undefined;
  if (run.result === 'stopped') {
    const failure = entries.slice(0, i).reverse().find((e) => e.who === run.who && e.result === 'failed' && e.what !== 'run');
    return `the last run (${run.who}) stopped at ${run.at}${failure ? ` in ${failure.what}${failure.step !== undefined ? ` of step ${failure.step}` : ''}${failure.node ? ` on ${failure.node}` : ''}` : ''}: ${run.detail ?? '?'}`;
  }
  const after = entries.slice(i + 1).filter((e) => e.who === run.who);
  const last = after.at(-1);
  return `the last run (${run.who}, started ${run.at}) ended without finishing (killed or lost); its last recorded action: ${last ? describeLedgerEntry(last) : 'none'}`;
}

/** One entry as a line of text. */
export function describeLedgerEntry(e: LedgerEntry): string {
  const where = [e.step !== undefined ? `step ${e.step}` : '', e.node ? `node ${e.node}` : ''].filter(Boolean).join(' ');
  return `${e.at} ${e.who}: ${e.what}${where ? ` (${where})` : ''} ${e.result}${e.ms !== undefined ? ` in ${(e.ms / 1000).toFixed(1)}s` : ''}${e.detail ? ` — ${e.detail}` : ''}`;
}
