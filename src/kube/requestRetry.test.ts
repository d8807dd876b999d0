import { describe, expect, it } from 'vitest';
import { ClusterUnreachableError, KubeApiError, KubeRequestTimeoutError, statusFromResponse } from './kubeErrors.js';
import { backoffMs, DEFAULT_RETRY_POLICY, retryVerdict, withAttemptsNoted, type RetryPolicy } from './requestRetry.js';

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 500, maxRetryAfterMs: 3000 };
const apiError = (code: number, retryAfter?: string) => new KubeApiError(statusFromResponse(code, '', retryAfter), 'PATCH /api/v1/nodes/n1');
const unreachable = (code: string) => new ClusterUnreachableError('https://api:6443', code, 'boom');
const half = () => 0.5;

describe('retryVerdict', () => {
  it('retries the answers of a busy or failing-over control plane, with backoff', () => {
    for (const code of [429, 500, 502, 503, 504]) expect(retryVerdict({ error: apiError(code), attempt: 1, answeredBefore: true }, policy, half).retry, String(code)).toBe(true);
    expect(retryVerdict({ error: apiError(500), attempt: 1, answeredBefore: true }, policy, half)).toEqual({ retry: true, delayMs: 75, why: 'the API server failed the request (500)' });
  });

  it('never retries answers that a second try would repeat', () => {
    for (const code of [400, 401, 403, 404, 409, 410, 422]) {
      const v = retryVerdict({ error: apiError(code), attempt: 1, answeredBefore: true }, policy, half);
      expect(v.retry, String(code)).toBe(false);
    }
    expect(retryVerdict({ error: apiError(409), attempt: 1, answeredBefore: true }, policy)).toEqual({ retry: false, why: '409 Conflict is not transient' });
    expect(retryVerdict({ error: new SyntaxError('bad JSON'), attempt: 1, answeredBefore: true }, policy)).toEqual({ retry: false, why: 'not an API failure' });
  });

  it("honours the server's Retry-After, capped", () => {
    expect(retryVerdict({ error: apiError(429, '2'), attempt: 1, answeredBefore: true }, policy, half)).toEqual({ retry: true, delayMs: 2000, why: 'the API server asked to slow down (429)' });
    expect(retryVerdict({ error: apiError(503, '120'), attempt: 1, answeredBefore: true }, policy, half)).toMatchObject({ retry: true, delayMs: 3000 });
  });

  it('gives up after the last attempt, saying why', () => {
    expect(retryVerdict({ error: apiError(503), attempt: 3, answeredBefore: true }, policy, half).retry).toBe(true);
    expect(retryVerdict({ error: apiError(503), attempt: 4, answeredBefore: true }, policy, half)).toEqual({ retry: false, why: 'the API server is unavailable (503); gave up after 4 attempts' });
  });

  it('retries broken connections and timeouts; a refusal or a DNS failure only from a server that answered before', () => {
    expect(retryVerdict({ error: unreachable('ECONNRESET'), attempt: 1, answeredBefore: false }, policy, half)).toMatchObject({ retry: true, why: 'the connection broke (ECONNRESET)' });
    expect(retryVerdict({ error: new KubeRequestTimeoutError('https://api:6443', 'GET /api/v1/nodes', 30000), attempt: 1, answeredBefore: false }, policy, half)).toMatchObject({ retry: true, why: 'no answer within 30000 ms' });
    expect(retryVerdict({ error: unreachable('ECONNREFUSED'), attempt: 1, answeredBefore: false }, policy, half)).toEqual({ retry: false, why: 'ECONNREFUSED on first contact' });
    expect(retryVerdict({ error: unreachable('ECONNREFUSED'), attempt: 1, answeredBefore: true }, policy, half)).toMatchObject({ retry: true, why: 'the API server refused the connection (restarting?)' });
    expect(retryVerdict({ error: unreachable('EAI_AGAIN'), attempt: 1, answeredBefore: false }, policy, half).retry).toBe(false);
    expect(retryVerdict({ error: unreachable('ENOTFOUND'), attempt: 1, answeredBefore: true }, policy, half)).toEqual({ retry: false, why: 'ENOTFOUND is not transient' });
    expect(retryVerdict({ error: unreachable('DEPTH_ZERO_SELF_SIGNED_CERT'), attempt: 1, answeredBefore: true }, policy, half).retry).toBe(false);
  });
});

describe('backoffMs', () => {
  it('doubles from the base up to the cap, half of it fixed and half random', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, policy, () => 0))).toEqual([50, 100, 200, 250, 250]);
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, policy, () => 1))).toEqual([100, 200, 400, 500, 500]);
  });

  it('the default policy gives up within half a minute', () => {
    let total = 0;
    for (let a = 1; a < DEFAULT_RETRY_POLICY.attempts; a++) total += backoffMs(a, DEFAULT_RETRY_POLICY, () => 1);
    expect(total).toBeLessThanOrEqual(30_000);
    expect(total).toBeGreaterThanOrEqual(10_000);
  });
});

describe('withAttemptsNoted', () => {
  it('keeps the error and its type, adding how long it was tried', () => {
    const e = apiError(503);
    expect(withAttemptsNoted(e, 8, 23_456)).toBe(e);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.message).toBe('the server responded with 503 ServiceUnavailable (tried 8 times over 23.5 s)');
    const once = apiError(404);
    expect(withAttemptsNoted(once, 1, 5).message).not.toContain('tried');
  });
});
