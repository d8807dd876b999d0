/**
 * Which failed API requests are tried again, and after how long. A migration runs for hours
 * against an API server that restarts, changes etcd leader or sheds load meanwhile; a transient
 * answer must not stop it, and a persistent one must stop it soon with the last error. Rules are
 * pure functions returning verdicts as data; the transport runs them (httpTransport.ts).
 *
 * Every request the transport retries is safe to send twice: GET, merge/strategic/apply PATCH
 * (the same patch twice is the same object), DELETE (a second one answers 404, read as "gone"),
 * and POST create (a second one answers 409 AlreadyExists, which callers read as "exists"). A
 * patch with a resourceVersion precondition that was applied before its answer was lost
 * answers 409 on the retry; callers with preconditions re-read on 409 anyway. Evictions and pod
 * proxy reads do not come through here: their callers pace their own retries.
 */
import { ClusterUnreachableError, KubeApiError, KubeRequestTimeoutError } from './kubeErrors.js';

/** How hard to try. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 turns retries off. */
  attempts: number;
  /** Pause before the first retry; doubled for each further one. */
  baseDelayMs: number;
  /** Longest pause computed from the backoff. */
  maxDelayMs: number;
  /** Longest Retry-After honoured; a server asking for longer is waited this long. */
  maxRetryAfterMs: number;
}

/**
 * Eight attempts over about 24 s at most: longer than an API server restart or an etcd leader
 * election takes, short enough that a persistent failure stops the run while the operator watches.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 8000, maxRetryAfterMs: 30_000 };

/** What a request's failure was, as the rules need it. */
export interface FailureFacts {
  /** The error the request ended with. */
  error: unknown;
  /** 1 for the first attempt. */
  attempt: number;
  /** Whether this server has answered any request before (a refusal then means it is restarting). */
  answeredBefore: boolean;
}

/** The verdict on one failure. */
export type RetryVerdict = { retry: true; delayMs: number; why: string } | { retry: false; why: string };

/** Status codes a healthy request can meet while the control plane is busy or failing over. */
const TRANSIENT_STATUS = new Map<number, string>([
  [429, 'the API server asked to slow down (429)'],
  [500, 'the API server failed the request (500)'],
  [502, 'a proxy in front of the API server failed (502)'],
  [503, 'the API server is unavailable (503)'],
  [504, 'a proxy in front of the API server timed out (504)'],
]);

/** Socket errors of a connection that broke; DNS and TLS failures are configuration, not weather. */
const TRANSIENT_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Transient only from a server that answered before (a restart); on first contact a wrong address or a server down. */
const TRANSIENT_AFTER_CONTACT = new Map([
  ['ECONNREFUSED', 'the API server refused the connection (restarting?)'],
  ['EAI_AGAIN', "the API server's name did not resolve (DNS failing over?)"],
]);

/** The rule for API error answers. */
export function statusRule(e: KubeApiError): { transient: boolean; why: string; retryAfterMs?: number | undefined } {
  const why = TRANSIENT_STATUS.get(e.code);
  if (!why) return { transient: false, why: `${e.code} ${e.reason} is not transient` };
  return { transient: true, why, retryAfterMs: e.retryAfterSeconds !== undefined ? e.retryAfterSeconds * 1000 : undefined };
}

/** The rule for requests that got no answer. */
export function connectionRule(e: ClusterUnreachableError | KubeRequestTimeoutError, answeredBefore: boolean): { transient: boolean; why: string } {
  if (e instanceof KubeRequestTimeoutError) return { transient: true, why: `no answer within ${e.timeoutMs} ms` };
  const code = e.code ?? '';
  if (TRANSIENT_SOCKET.has(code)) return { transient: true, why: `the connection broke (${code})` };
  const afterContact = TRANSIENT_AFTER_CONTACT.get(code);
  if (afterContact) return answeredBefore ? { transient: true, why: afterContact } : { transient: false, why: `${code} on first contact` };
  return { transient: false, why: code ? `${code} is not transient` : 'not a transient failure' };
}

/** Exponential backoff with jitter (half fixed, half random), so parallel retries spread out. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** Whether and when to try a failed request again. */
export function retryVerdict(f: FailureFacts, policy: RetryPolicy, random: () => number = Math.random): RetryVerdict {
  let rule: { transient: boolean; why: string; retryAfterMs?: number | undefined };
  if (f.error instanceof KubeApiError) rule = statusRule(f.error);
  else if (f.error instanceof ClusterUnreachableError || f.error instanceof KubeRequestTimeoutError) rule = connectionRule(f.error, f.answeredBefore);
  else return { retry: false, why: 'not an API failure' };
  if (!rule.transient) return { retry: false, why: rule.why };
  if (f.attempt >= policy.attempts) return { retry: false, why: `${rule.why}; gave up after ${policy.attempts} attempts` };
  const delayMs = rule.retryAfterMs !== undefined ? Math.min(rule.retryAfterMs, policy.maxRetryAfterMs) : backoffMs(f.attempt, policy, random);
  return { retry: true, delayMs, why: rule.why };
}

/** One retry, for progress output and the report. */
export interface RetryNotice {
  /** e.g. "PATCH /api/v1/nodes/node-1" */
  request: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  attempts: number;
  delayMs: number;
  why: string;
  /** The server's message, when it sent one. */
  message: string;
}

/**
 * Notes on the last error how long its request was tried. The error keeps its type, so callers
 * still tell a 404 from a 409 from an unreachable server.
 */
export function withAttemptsNoted<E>(error: E, attempts: number, elapsedMs: number): E {
  if (attempts > 1 && error instanceof Error) error.message = `${error.message} (tried ${attempts} times over ${(elapsedMs / 1000).toFixed(1)} s)`;
  return error;
}
