/**
 * Typed errors for everything that can go wrong talking to a Kubernetes API server. Only the CLI's
 * entry point turns these into exit codes and text; everything else inspects them with the
 * `is*` helpers below.
 */

/** One entry of a v1.Status `details.causes` list. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** The parts of a v1.Status the API server sends with every error response. */
export interface KubeStatus {
  code: number;
  reason: string;
  message: string;
  causes: StatusCause[];
  retryAfterSeconds?: number;
}

/** The API server answered with an error status (4xx/5xx). `message` is the server's own message. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  /** HTTP status code (404, 409, 429, …). */
  readonly code: number;
  /** The Status reason (NotFound, Conflict, TooManyRequests, …). */
  readonly reason: string;
  readonly causes: StatusCause[];
  readonly retryAfterSeconds: number | undefined;
  /** The request that failed, e.g. "GET /api/v1/nodes/n1" (never carries credentials). */
  readonly request: string;

  constructor(status: KubeStatus, request: string) {
    super(status.message);
    this.code = status.code;
    this.reason = status.reason;
    this.causes = status.causes;
    this.retryAfterSeconds = status.retryAfterSeconds;
    this.request = request;
  }

  /** True when one of the Status causes has this reason (e.g. NamespaceTerminating). */
  hasCause(reason: string): boolean {
    return this.causes.some((c) => c.reason === reason);
  }
}

/** The API server could not be reached at all: connection refused, DNS, TLS, reset. */
export class ClusterUnreachableError extends Error {
  override readonly name = 'ClusterUnreachableError';
  constructor(
    /** The server URL from the kubeconfig. */
    readonly server: string,
    /** The system error code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, …) when known. */
    readonly code: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the Kubernetes API server at ${server}${code ? ` (${code})` : ''}: ${detail}`, options);
  }
}

/** A request got no complete answer within its timeout. */
export class KubeRequestTimeoutError extends Error {
  override readonly name = 'KubeRequestTimeoutError';
  constructor(
    readonly server: string,
    /** e.g. "GET /api/v1/nodes" */
    readonly request: string,
    readonly timeoutMs: number,
  ) {
    super(`${request} to ${server} got no answer within ${timeoutMs} ms`);
  }
}

/** Credentials could not be produced (exec plugin failed, token or certificate file unreadable). */
export class KubeCredentialsError extends Error {
  override readonly name = 'KubeCredentialsError';
  constructor(
    readonly server: string,
    readonly user: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot get credentials${user ? ` for user "${user}"` : ''} to talk to ${server}: ${detail}`, options);
  }
}

/** The server does not serve this apiVersion/kind (kubectl: "no matches for kind … in version …"). */
export class NoKindMatchError extends Error {
  override readonly name = 'NoKindMatchError';
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(`no matches for kind "${kind}" in version "${apiVersion}" (is the CRD installed and Established?)`);
  }
}

/** True for a 404 from the API server. */
export function isNotFound(e: unknown): boolean {
  return e instanceof KubeApiError && e.code === 404;
}

/** True for a 409 (resourceVersion or UID precondition failed, or already exists). */
export function isConflict(e: unknown): boolean {
  return e instanceof KubeApiError && e.code === 409;
}

/** True for a 429 (PodDisruptionBudget blocks an eviction, or the server asks to slow down). */
export function isTooManyRequests(e: unknown): boolean {
  return e instanceof KubeApiError && e.code === 429;
}

/** True for a 403. */
export function isForbidden(e: unknown): boolean {
  return e instanceof KubeApiError && e.code === 403;
}

/** True for failures worth retrying within a deadline: no answer, connection trouble, 429, 5xx. */
export function isTransient(e: unknown): boolean {
  if (e instanceof ClusterUnreachableError || e instanceof KubeRequestTimeoutError) return true;
  return e instanceof KubeApiError && (e.code === 429 || e.code >= 500);
}

const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/**
 * Reads an error response body as a v1.Status. Non-JSON bodies ("404 page not found") keep their
 * text as the message and get the reason kube-apiserver would use for that code.
 */
export function statusFromResponse(code: number, body: string, retryAfterHeader?: string): KubeStatus {
  const fallbackReason = REASON_BY_CODE[code] ?? 'Unknown';
  const retryHeader = retryAfterHeader !== undefined ? Number(retryAfterHeader) : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === 'object' && (parsed as { kind?: unknown }).kind === 'Status') {
    const s = parsed as { reason?: unknown; message?: unknown; details?: { causes?: unknown; retryAfterSeconds?: unknown } };
    const causes = Array.isArray(s.details?.causes) ? (s.details.causes as StatusCause[]) : [];
    const retry = typeof s.details?.retryAfterSeconds === 'number' ? s.details.retryAfterSeconds : retryHeader;
    return {
      code,
      reason: typeof s.reason === 'string' && s.reason ? s.reason : fallbackReason,
      message: typeof s.message === 'string' && s.message ? s.message : `the server responded with ${code}`,
      causes,
      ...(retry !== undefined && Number.isFinite(retry) ? { retryAfterSeconds: retry } : {}),
    };
  }
  const text = body.trim();
  return {
    code,
    reason: fallbackReason,
    message: text ? text.slice(0, 500) : `the server responded with ${code} ${fallbackReason}`,
    causes: [],
    ...(retryHeader !== undefined && Number.isFinite(retryHeader) ? { retryAfterSeconds: retryHeader } : {}),
  };
}

/** Why no usable kubeconfig could be loaded. */
export type KubeconfigProblem =
  /** Nothing configured at all: no --kubeconfig, no KUBECONFIG, no ~/.kube/config, not in a cluster. */
  | 'notConfigured'
  /** A named file cannot be read. */
  | 'unreadable'
  /** A file is not a valid kubeconfig. */
  | 'invalid'
  /** --context (or current-context) names a context the kubeconfig does not have. */
  | 'contextNotFound'
  /** No --context and no current-context. */
  | 'noCurrentContext'
  /** The context points at a cluster or user that is not defined. */
  | 'incompleteContext';

/** The kubeconfig is missing or unusable. Messages name files and contexts, never credentials. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
  constructor(
    readonly problem: KubeconfigProblem,
    message: string,
    /** Context names available, for contextNotFound/noCurrentContext. */
    readonly availableContexts: string[] = [],
  ) {
    super(message);
  }
}
