/**
 * The dashboard's content as data: rows of panels, each with its PromQL queries. grafana/dashboard.ts
 * turns it into Grafana JSON with the typed SDK; grafana/dashboard.test.ts checks every metric name
 * against the services' metrics factories; `make verify-dashboard` runs every query against a real
 * Prometheus scraping the embedded stack.
 *
 * `$__rate_interval` is Grafana's: at least four scrape intervals, so a rate never sees fewer than
 * two samples (https://grafana.com/blog/2020/09/28/new-in-grafana-7.2-__rate_interval-for-prometheus-rate-queries-that-just-work/).
 */

export interface PanelQuery {
  expr: string;
  /** Grafana legend template, e.g. `{{reason}}`. */
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  /** Grafana unit id: `ops`, `s`, `bytes`, `percentunit`, `short`. */
  unit: string;
  queries: PanelQuery[];
  /** Stacked areas for parts of a whole (requests by status). */
  stacked?: boolean;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

const RI = '$__rate_interval';

/** `sum by (labels) (rate(metric[$__rate_interval]))`, or `sum(...)` without labels. */
function rateBy(metric: string, by: string[] = [], selector = ''): string {
  const grouping = by.length > 0 ? ` by (${by.join(', ')})` : '';
  return `sum${grouping} (rate(${metric}${selector}[${RI}]))`;
}

/** The q-quantile of a histogram, per `by` labels. */
function quantile(q: number, histogram: string, by: string[] = [], selector = ''): string {
  return `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (rate(${histogram}_bucket${selector}[${RI}])))`;
}

function percentiles(histogram: string, label: string, qs = [0.5, 0.95, 0.99], by: string[] = []): PanelQuery[] {
  const suffix = by.map((name) => ` {{${name}}}`).join('');
  return qs.map((q) => ({ expr: quantile(q, histogram, by), legend: `${label} p${Math.round(q * 100)}${suffix}` }));
}

export const ROWS: RowSpec[] = [
  {
    title: 'Ingest',
    panels: [
      {
        title: 'Ingest rate',
        description: 'Messages consumed from the topic, and what became of them: applied to stock, rejected (in the ledger, no stock effect) by reason, dead-lettered (invalid) by reason, ignored as redelivered (of which with other content than the first occurrence), and offsets skipped unread (deleted by the broker before they were read).',
        unit: 'ops',
        queries: [
          { expr: rateBy('wsm_processor_events_consumed_total'), legend: 'consumed' },
          { expr: rateBy('wsm_processor_events_applied_total'), legend: 'applied' },
          { expr: rateBy('wsm_processor_events_rejected_total', ['reason']), legend: 'rejected {{reason}}' },
          { expr: rateBy('wsm_processor_dead_letters_total', ['reason']), legend: 'dead letter {{reason}}' },
          { expr: rateBy('wsm_processor_events_redelivered_total'), legend: 'redelivered' },
          { expr: rateBy('wsm_processor_events_conflicting_total'), legend: 'redelivered, other content' },
          { expr: rateBy('wsm_processor_skipped_offsets_total'), legend: 'skipped unread' },
        ],
      },
      {
        title: 'Status changes and notifications',
        description: 'Stock rows changing status (available, low, out_of_stock), and notifications published to the notification topic by type.',
        unit: 'ops',
        queries: [
          { expr: rateBy('wsm_processor_status_changes_total'), legend: 'status changes' },
          { expr: rateBy('wsm_processor_notifications_total', ['type']), legend: 'notified {{type}}' },
        ],
      },
    ],
  },
  {
    title: 'Batches',
    panels: [
      {
        title: 'Batches by flush reason',
        description: 'Committed batches per second: full (size), timed out (time), partitions revoked, shutdown. Mostly "time" means the input is slower than BATCH_MAX_RECORDS per BATCH_MAX_WAIT_MS.',
        unit: 'ops',
        stacked: true,
        queries: [{ expr: rateBy('wsm_processor_batches_total', ['reason']), legend: '{{reason}}' }],
      },
      {
        title: 'Batch size',
        description: 'Records per committed batch: mean and percentiles (bucket bounds 1 to 200k).',
        unit: 'short',
        queries: [
          { expr: `${rateBy('wsm_processor_batch_records_sum')} / ${rateBy('wsm_processor_batch_records_count')}`, legend: 'mean' },
          ...percentiles('wsm_processor_batch_records', 'records', [0.5, 0.95]),
        ],
      },
      {
        title: 'COPY, merge and flush duration',
        description: 'Per batch: COPY into staging, the apply_batch merge, and the whole flush (begin to commit).',
        unit: 's',
        queries: [
          ...percentiles('wsm_processor_copy_duration_seconds', 'COPY', [0.5, 0.99]),
          ...percentiles('wsm_processor_merge_duration_seconds', 'merge', [0.5, 0.99]),
          ...percentiles('wsm_processor_flush_duration_seconds', 'flush', [0.5, 0.99]),
        ],
      },
      {
        title: 'End-to-end latency',
        description: "From an event's envelope time (set by its producer) to the commit of its batch.",
        unit: 's',
        queries: percentiles('wsm_processor_end_to_end_latency_seconds', 'end-to-end'),
      },
    ],
  },
  {
    title: 'Kafka',
    panels: [
      {
        title: 'Consumer lag per partition',
        description: "Messages between each partition's end and the consumer group's position (librdkafka statistics).",
        unit: 'short',
        queries: [{ expr: 'max by (topic, partition) (wsm_processor_consumer_lag_messages)', legend: '{{topic}} [{{partition}}]' }],
      },
      {
        title: 'Partitions, in-flight records, paused',
        description: 'Partitions each processor owns, records read but not committed, whether consumption is paused (batch full or database unavailable), and partitions stopped because their stored offset is past the log end.',
        unit: 'short',
        queries: [
          { expr: 'sum by (instance) (wsm_processor_assigned_partitions)', legend: 'partitions {{instance}}' },
          { expr: 'sum by (instance) (wsm_processor_in_flight_records)', legend: 'in flight {{instance}}' },
          { expr: 'max by (instance) (wsm_processor_paused)', legend: 'paused {{instance}}' },
          { expr: 'max by (instance) (wsm_processor_stopped_partitions)', legend: 'stopped {{instance}}' },
        ],
      },
    ],
  },
  {
    title: 'Database',
    panels: [
      {
        title: 'Database errors and retries',
        description: 'Failed flushes by kind (transient: retried with backoff; data: batch bisected; fenced: dropped after a rebalance) and retries.',
        unit: 'ops',
        queries: [
          { expr: rateBy('wsm_processor_db_errors_total', ['kind']), legend: 'errors {{kind}}' },
          { expr: rateBy('wsm_processor_db_retries_total'), legend: 'retries' },
        ],
      },
      {
        title: 'API query duration (p95)',
        description: 'Prisma Client operations of the API, by model and operation.',
        unit: 's',
        queries: percentiles('wsm_api_prisma_query_duration_seconds', 'query', [0.95], ['model', 'operation']),
      },
    ],
  },
  {
    title: 'API',
    panels: [
      {
        title: 'Requests by route and status',
        description: 'Requests answered per second, by route template and status code.',
        unit: 'reqps',
        stacked: true,
        queries: [{ expr: rateBy('wsm_api_http_requests_total', ['route', 'status']), legend: '{{route}} {{status}}' }],
      },
      {
        title: 'Latency by route',
        description: "Request duration percentiles by route template. A live stream's duration is the stream's whole life, so read its route apart from the others.",
        unit: 's',
        queries: percentiles('wsm_api_http_request_duration_seconds', '', [0.5, 0.95, 0.99], ['route']),
      },
      {
        title: 'Cache hit ratio',
        description: 'Share of read-cache lookups answered from a fresh entry or by joining an in-flight load, by cache.',
        unit: 'percentunit',
        queries: [
          {
            expr: `${rateBy('wsm_api_cache_requests_total', ['cache'], '{result=~"hit|coalesced"}')} / ${rateBy('wsm_api_cache_requests_total', ['cache'])}`,
            legend: '{{cache}}',
          },
        ],
      },
      {
        title: 'Live subscribers',
        description: 'Open server-sent-event streams of status changes, and events written to them.',
        unit: 'short',
        queries: [
          { expr: 'sum(wsm_api_sse_subscribers)', legend: 'subscribers' },
          { expr: rateBy('wsm_api_sse_events_sent_total'), legend: 'events sent /s' },
        ],
      },
    ],
  },
  {
    title: 'Runtime',
    panels: [
      {
        title: 'CPU',
        description: 'CPU seconds per second of each process (1 = one core).',
        unit: 'percentunit',
        queries: [{ expr: 'sum by (service, instance) (rate(process_cpu_seconds_total[$__rate_interval]))', legend: '{{service}} {{instance}}' }],
      },
      {
        title: 'Memory',
        description: 'Resident set size and V8 heap in use of each process.',
        unit: 'bytes',
        queries: [
          { expr: 'sum by (service, instance) (process_resident_memory_bytes)', legend: 'RSS {{service}} {{instance}}' },
          { expr: 'sum by (service, instance) (nodejs_heap_size_used_bytes)', legend: 'heap {{service}} {{instance}}' },
        ],
      },
      {
        title: 'Event-loop lag',
        description: "p99 and mean of Node's event-loop delay: a busy loop delays every request and every poll of the consumer.",
        unit: 's',
        queries: [
          { expr: 'max by (service, instance) (nodejs_eventloop_lag_p99_seconds)', legend: 'p99 {{service}} {{instance}}' },
          { expr: 'max by (service, instance) (nodejs_eventloop_lag_mean_seconds)', legend: 'mean {{service}} {{instance}}' },
        ],
      },
    ],
  },
];
