/**
 * What the primitives report while they work. They never print: reporters (terminal, JSON,
 * report file) subscribe through an EventSink and own all output.
 */

/** One progress event. Pods are named "namespace/name". */
export type OpsEvent =
  | { type: 'cordon'; node: string; unschedulable: boolean }
  | { type: 'drainWarning'; node: string; message: string; pods: string[] }
  /** workload: the pod's controller, "Deployment shop/web" (see podWorkload). */
  | { type: 'podEvicting'; node: string; pod: string; workload?: string | undefined }
  | { type: 'podDeleting'; node: string; pod: string; workload?: string | undefined }
  | { type: 'evictionRetry'; node: string; pod: string; reason: 'blockedByPdb' | 'tooManyRequests' | 'namespaceTerminating' | 'transient'; message: string; retryInMs: number }
  | { type: 'podGone'; node: string; pod: string }
  | { type: 'drainDone'; node: string; evicted: string[]; skipped: string[] }
  | { type: 'taint'; node: string; action: 'add' | 'remove'; key: string; effect?: string | undefined; changed: boolean }
  | { type: 'labels'; node: string; labels: Record<string, string | null> }
  | { type: 'conflictRetry'; object: string; attempt: number }
  | { type: 'applied'; object: string }
  | { type: 'waiting'; what: string; status: string }
  /** A wait's watch resumed after the server closed it, or re-listed after 410 Expired. */
  | { type: 'watchRestart'; what: string; why: 'closed' | 'expired' };

/** Receives events; must not throw. */
export type EventSink = (event: OpsEvent) => void;

/** An EventSink that drops everything. */
export const ignoreEvents: EventSink = () => {};
