import { describe, expect, it } from 'vitest';
import { ClusterUnreachableError, isConflict, isNotFound, isTooManyRequests, isTransient, KubeApiError, KubeRequestTimeoutError, statusFromResponse } from './kubeErrors.js';
import { redactSecrets } from './httpTransport.js';

describe('kube errors', () => {
  it('reads a v1.Status body', () => {
    const body = JSON.stringify({
      kind: 'Status',
      code: 429,
      reason: 'TooManyRequests',
      message: 'Cannot evict pod',
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2' }], retryAfterSeconds: 2 },
    });
    expect(statusFromResponse(429, body)).toEqual({
      code: 429,
      reason: 'TooManyRequests',
      message: 'Cannot evict pod',
      causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2' }],
      retryAfterSeconds: 2,
    });
  });

  it('reads plain-text and empty bodies with the reason the code implies', () => {
    expect(statusFromResponse(404, '404 page not found\n')).toEqual({ code: 404, reason: 'NotFound', message: '404 page not found', causes: [] });
    expect(statusFromResponse(503, '', '7')).toEqual({ code: 503, reason: 'ServiceUnavailable', message: 'the server responded with 503 ServiceUnavailable', causes: [], retryAfterSeconds: 7 });
  });

  it('helpers classify errors', () => {
    const err = (code: number) => new KubeApiError(statusFromResponse(code, ''), 'GET /x');
    expect(isNotFound(err(404))).toBe(true);
    expect(isConflict(err(409))).toBe(true);
    expect(isTooManyRequests(err(429))).toBe(true);
    expect(isNotFound(new Error('404'))).toBe(false);
    expect(isTransient(err(503))).toBe(true);
    expect(isTransient(err(400))).toBe(false);
    expect(isTransient(new ClusterUnreachableError('https://x', 'ECONNRESET', 'reset'))).toBe(true);
    expect(isTransient(new KubeRequestTimeoutError('https://x', 'GET /', 1))).toBe(true);
  });

  it('redacts bearer tokens, token fields and PEM blocks', () => {
    expect(redactSecrets('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer <redacted>');
    expect(redactSecrets('{"token":"abc123","x":1}')).toBe('{"token":<redacted>,"x":1}');
    expect(redactSecrets('key -----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY----- end')).toBe('key <redacted PEM> end');
  });
});
