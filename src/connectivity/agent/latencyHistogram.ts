/**
 * Latency histograms of successful probes, one series per (peer node, network): cumulative
 * bucket counts as Prometheus expects them. The number of series is bounded by nodes × networks.
 */

/** Upper bounds in seconds: sub-millisecond (same node) to the longest sensible probe timeout. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One histogram series as exposed. */
export interface HistogramSeries {
  labels: Record<string, string>;
  /** Upper bounds (seconds), without +Inf. */
  bounds: readonly number[];
  /** Cumulative count per bound; the +Inf bucket is `count`. */
  cumulative: number[];
  sum: number;
  count: number;
}

/** Histograms keyed by a label set. */
export class LatencyHistograms {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(private readonly bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {}

  /** Adds one observation (seconds) to the series with these labels. */
  observe(labels: Record<string, string>, seconds: number): void {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, bounds: this.bounds, cumulative: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    this.bounds.forEach((b, i) => {
      if (seconds <= b) s.cumulative[i]!++;
    });
    s.sum += seconds;
    s.count++;
  }

  /** Every series (copies). */
  all(): HistogramSeries[] {
    return [...this.series.values()].map((s) => ({ ...s, labels: { ...s.labels }, cumulative: [...s.cumulative] }));
  }
}
