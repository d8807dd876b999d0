import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { KubeObject, ObjectRef } from '../kube/kubeTypes.js';
import type { SourceDescription } from '../source/sourceTypes.js';

// The migration's record in the cluster: which strategy it runs and from which source, written
// at the first real action. A resumed run reads it, so it cannot switch strategy half-way (the
// two leave nodes in states the other cannot read).

/** Where the record lives. */
export const MIGRATION_RECORD: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'cni-migration' };

/** What the record says. */
export interface MigrationRecord {
  strategy: string;
  /** One line: "canal (DaemonSet kube-system/canal)". */
  source: string;
  startedAt: string;
  startedBy: string;
  /** The source as discovered when the migration started (its DaemonSet is gone after clean-up). */
  sourceDescription?: SourceDescription | undefined;
}

/** A resumed run asked for another strategy than the one the cluster's migration uses. Exit code 2. */
export class StrategyMismatchError extends Error {
  constructor(
    readonly requested: string,
    readonly record: MigrationRecord,
  ) {
    super(
      `this cluster's migration uses strategy ${record.strategy} (recorded in ConfigMap ${MIGRATION_RECORD.namespace}/${MIGRATION_RECORD.name} since ${record.startedAt} by ${record.startedBy}); it cannot switch to ${requested} half-way. Run with --strategy ${record.strategy} (or without --strategy), or roll the migration back before starting another`,
    );
    this.name = 'StrategyMismatchError';
  }
}

/** Reads the record; undefined when no migration has started. */
export async function readMigrationRecord(client: ClusterClient): Promise<MigrationRecord | undefined> {
  let cm: KubeObject;
  try {
    cm = await client.getObject(MIGRATION_RECORD);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  const d = (cm as { data?: Record<string, string> }).data ?? {};
  if (!d.strategy) return undefined;
  let sourceDescription: SourceDescription | undefined;
  try {
    sourceDescription = d['source.json'] ? (JSON.parse(d['source.json']) as SourceDescription) : undefined;
  } catch {
    sourceDescription = undefined;
  }
  return { strategy: d.strategy, source: d.source ?? '', startedAt: d.startedAt ?? '', startedBy: d.startedBy ?? '', sourceDescription };
}

/** The strategy to use: the requested one, else the recorded one, else the default; refuses a switch. */
export function chooseStrategyName(requested: string | undefined, record: MigrationRecord | undefined, fallback: string): string {
  if (record && requested !== undefined && requested !== record.strategy) throw new StrategyMismatchError(requested, record);
  return requested ?? record?.strategy ?? fallback;
}

/** Writes the record unless one exists (idempotent: a resumed run keeps the first one). */
export async function ensureMigrationRecord(client: ClusterClient, strategy: string, source: SourceDescription, now: Date = new Date()): Promise<MigrationRecord> {
  const existing = await readMigrationRecord(client);
  if (existing) return existing;
  const record: MigrationRecord = {
    strategy,
    source: `${source.kind} (DaemonSet ${source.daemonSet.namespace}/${source.daemonSet.name})`,
    startedAt: now.toISOString(),
    startedBy: client.target.user,
  };
  await client.applyObject({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: MIGRATION_RECORD.name, namespace: MIGRATION_RECORD.namespace, labels: { 'app.kubernetes.io/managed-by': 'cni-migration' } },
    data: { ...record, 'source.json': JSON.stringify({ ...source, warnings: [] }) },
  });
  return { ...record, sourceDescription: source };
}
