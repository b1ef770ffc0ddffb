/**
 * Reading the services' /metrics (Prometheus text format 0.0.4): counters and histograms, and
 * quantiles estimated from histogram buckets the way PromQL's histogram_quantile does (linear
 * interpolation inside the bucket), https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
 */

export interface Histogram {
  /** Cumulative counts by upper bound, ascending; the last bound is +Inf. */
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** Sum of every series of `name` (over all label sets). */
export function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A histogram summed over its label sets (other than `le`). */
export function readHistogram(text: string, name: string): Histogram {
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      byLe.set(bound, (byLe.get(bound) ?? 0) + value);
    } else if (line.startsWith(`${name}_sum`)) sum += value;
    else if (line.startsWith(`${name}_count`)) count += value;
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, c]) => ({ le, count: c }));
  return { buckets, sum, count };
}

/** The q-quantile (0..1) of a histogram, or undefined when it has no observations. */
export function histogramQuantile(histogram: Histogram, q: number): number | undefined {
  const total = histogram.buckets[histogram.buckets.length - 1]?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const { le, count } of histogram.buckets) {
    if (count >= rank) {
      // Above the highest finite bound the estimate is that bound, as in PromQL.
      if (le === Infinity) return previousLe;
      const inBucket = count - previousCount;
      return inBucket === 0 ? le : previousLe + ((le - previousLe) * (rank - previousCount)) / inBucket;
    }
    previousLe = le;
    previousCount = count;
  }
  return previousLe;
}

/** Exact percentile of raw samples (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
