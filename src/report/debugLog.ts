import pino, { type Logger } from 'pino';

// -v debug: structured logs (JSON lines on stderr, pino) beside the progress text, for log
// collectors: every API request (method, path, status, time, size — never headers or bodies) and
// every engine event. Fields that can carry credentials or data are redacted wherever they appear,
// should an event or error ever hold one.

const REDACT = ['token', '*.token', 'authorization', '*.authorization', 'password', '*.password', 'data', '*.data', 'stringData', '*.stringData', 'client-key-data', '*["client-key-data"]', 'bearerToken', '*.bearerToken'];

/** A debug logger writing JSON lines to a stream (stderr by default). */
export function createDebugLogger(dest?: NodeJS.WritableStream): Logger {
  // Synchronous on stderr, so the lines interleave with the progress text in order.
  return pino({ level: 'debug', base: { name: 'cni-migration' }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime }, dest ?? pino.destination({ fd: 2, sync: true }));
}
