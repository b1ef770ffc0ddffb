import { describe, expect, it } from 'vitest';
import { histogramQuantile, percentile, readHistogram, sumMetric } from './prom.js';

const TEXT = `# HELP wsm_processor_flush_duration_seconds Time to flush a batch.
# TYPE wsm_processor_flush_duration_seconds histogram
wsm_processor_flush_duration_seconds_bucket{le="0.1",service="processor"} 10
wsm_processor_flush_duration_seconds_bucket{le="0.5",service="processor"} 90
wsm_processor_flush_duration_seconds_bucket{le="1",service="processor"} 100
wsm_processor_flush_duration_seconds_bucket{le="+Inf",service="processor"} 100
wsm_processor_flush_duration_seconds_sum{service="processor"} 25
wsm_processor_flush_duration_seconds_count{service="processor"} 100
wsm_processor_batches_total{reason="size",service="processor"} 60
wsm_processor_batches_total{reason="time",service="processor"} 40
`;

describe('Prometheus text reading', () => {
  it('reads a histogram and interpolates quantiles inside buckets, as histogram_quantile does', () => {
    const h = readHistogram(TEXT, 'wsm_processor_flush_duration_seconds');
    expect(h.count).toBe(100);
    expect(h.sum).toBe(25);
    // Rank 50 lies 40/80 of the way through the (0.1, 0.5] bucket.
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(0.3, 10);
    expect(histogramQuantile(h, 0.05)).toBeCloseTo(0.05, 10);
    expect(histogramQuantile(h, 0.95)).toBeCloseTo(0.75, 10);
    expect(histogramQuantile({ buckets: [], sum: 0, count: 0 }, 0.5)).toBeUndefined();
  });

  it('sums a counter over its labels, and takes nearest-rank percentiles of samples', () => {
    expect(sumMetric(TEXT, 'wsm_processor_batches_total')).toBe(100);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([], 0.5)).toBeUndefined();
  });
});
