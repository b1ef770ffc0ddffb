import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createApiMetrics } from '../api/metrics.js';
import { createProcessorMetrics } from '../processor/metrics.js';
import { DASHBOARD_PATH, DATASOURCE, dashboardJson } from './dashboard.js';
import { dashboardQueries, metricFamily, metricNames } from './promql.js';

/** Every metric family the two services export: their factories' names plus Node's default metrics. */
async function declaredMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const registry of [createProcessorMetrics().registry, createApiMetrics().registry]) {
    for (const metric of await registry.getMetricsAsJSON()) names.add(metric.name);
  }
  return names;
}

describe('grafana dashboard', () => {
  it('the committed JSON is what grafana/dashboard.ts generates (run `make dashboard` after editing panels.ts)', async () => {
    expect(await readFile(DASHBOARD_PATH, 'utf8')).toBe(dashboardJson());
  });

  it('uses only metric names the services declare', async () => {
    const declared = await declaredMetrics();
    const queries = dashboardQueries(JSON.parse(dashboardJson()) as Parameters<typeof dashboardQueries>[0]);
    expect(queries.length).toBeGreaterThan(20);
    const unknown = queries.flatMap((query) =>
      metricNames(query.expr)
        .filter((name) => !declared.has(metricFamily(name, declared)))
        .map((name) => `${query.panel} ${query.refId}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every panel has a query on the provisioned datasource, every query a metric', () => {
    const dashboard = JSON.parse(dashboardJson()) as { panels: { type: string; title: string; datasource?: unknown; targets?: { expr: string }[] }[] };
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(metricNames(target.expr), target.expr).not.toEqual([]);
    }
  });

  it('covers the rows the product promises (issue 6, item 4)', () => {
    const queries = dashboardQueries(JSON.parse(dashboardJson()) as Parameters<typeof dashboardQueries>[0]);
    const used = new Set(queries.flatMap((query) => metricNames(query.expr)));
    for (const name of [
      'wsm_processor_events_consumed_total',
      'wsm_processor_events_applied_total',
      'wsm_processor_events_rejected_total',
      'wsm_processor_dead_letters_total',
      'wsm_processor_batches_total',
      'wsm_processor_batch_records_bucket',
      'wsm_processor_copy_duration_seconds_bucket',
      'wsm_processor_merge_duration_seconds_bucket',
      'wsm_processor_end_to_end_latency_seconds_bucket',
      'wsm_processor_consumer_lag_messages',
      'wsm_processor_db_errors_total',
      'wsm_processor_db_retries_total',
      'wsm_processor_status_changes_total',
      'wsm_api_http_requests_total',
      'wsm_api_http_request_duration_seconds_bucket',
      'wsm_api_cache_requests_total',
      'wsm_api_sse_subscribers',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(used, name).toContain(name);
    }
  });
});

describe('metricNames', () => {
  it('finds metric names and skips functions, labels, keywords and durations', () => {
    expect(
      metricNames('sum by (route, status) (rate(a_total{result=~"hit|b_total"}[$__rate_interval])) / on (x) group_left sum(b_count offset 5m) > 1e3'),
    ).toEqual(['a_total', 'b_count']);
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[5m])))')).toEqual(['x_seconds_bucket']);
  });

  it('maps histogram series to their family', () => {
    const declared = new Set(['x_seconds']);
    expect(metricFamily('x_seconds_bucket', declared)).toBe('x_seconds');
    expect(metricFamily('y_total', declared)).toBe('y_total');
  });
});
