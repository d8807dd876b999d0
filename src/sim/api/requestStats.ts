import type http from 'node:http';

/**
 * Latency and bytes of the simulated API server's answers, for benchmarks: a log-bucket
 * histogram (5% wide buckets, so a percentile is within 5%) instead of every sample, so a
 * million requests cost a few kilobytes. Watches are streams, not answers: they are left out.
 */
const GROWTH = 1.05;
const FLOOR_MS = 0.01;

function bucketOf(ms: number): number {
  return ms <= FLOOR_MS ? 0 : Math.ceil(Math.log(ms / FLOOR_MS) / Math.log(GROWTH));
}

function upperBoundMs(bucket: number): number {
  return FLOOR_MS * GROWTH ** bucket;
}

/** A latency histogram with percentiles. */
export class LatencyLog {
  private readonly counts = new Map<number, number>();
  private total = 0;

  observe(ms: number): void {
    const b = bucketOf(ms);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.total++;
  }

  get count(): number {
    return this.total;
  }

  /** The latency (ms, the bucket's upper bound) below which `p` (0..1) of the answers fell; 0 with none. */
  percentile(p: number): number {
    if (!this.total) return 0;
    const rank = Math.ceil(p * this.total);
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return upperBoundMs(b);
    }
    return upperBoundMs(Math.max(...this.counts.keys()));
  }
}

/** Per request key ("VERB resource"): answers, bytes sent, and one latency histogram for all. */
export class RequestStats {
  readonly latency = new LatencyLog();
  readonly bytes = new Map<string, number>();

  record(key: string, ms: number, bytes: number): void {
    this.latency.observe(ms);
    this.bytes.set(key, (this.bytes.get(key) ?? 0) + bytes);
  }

  /** What /sim/v1/stats serves. */
  summary(): { answers: number; p50Ms: number; p99Ms: number; bytes: Record<string, number> } {
    return { answers: this.latency.count, p50Ms: round(this.latency.percentile(0.5)), p99Ms: round(this.latency.percentile(0.99)), bytes: Object.fromEntries(this.bytes) };
  }
}

function round(ms: number): number {
  return Number(ms.toFixed(2));
}

/** Calls `done(bytes)` once the response is finished, with the body bytes written. */
export function meterResponse(res: http.ServerResponse, done: (bytes: number) => void): void {
  let bytes = 0;
  const size = (chunk: unknown): number => (typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.byteLength : 0);
  const write = res.write.bind(res) as (...a: unknown[]) => boolean;
  const end = res.end.bind(res) as (...a: unknown[]) => http.ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    bytes += size(chunk);
    return write(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (chunk !== undefined && typeof chunk !== 'function') bytes += size(chunk);
    return end(chunk, ...rest);
  }) as typeof res.end;
  res.once('finish', () => done(bytes));
}
