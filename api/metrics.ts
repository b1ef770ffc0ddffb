import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry, DATABASE_SECONDS_BUCKETS } from '../lib/metrics.js';

/** Cache lookup results: served from a fresh entry, loaded, or joined an in-flight load of the same key. */
export const CACHE_RESULTS = ['hit', 'miss', 'coalesced'] as const;
export type CacheResult = (typeof CACHE_RESULTS)[number];

/** The `route` label of a request no router matched (keeps label cardinality bounded under scans). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Every API metric, on one registry. These names are a contract with the Grafana dashboard
 * (grafana/): rename nothing without changing the dashboard. Labels are small fixed sets: `route`
 * is the router template (`/api/movements/:movementId`), never the raw path.
 */
export function createApiMetrics(registry: Registry = createRegistry('api')) {
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'wsm_api_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status code.',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    // 1 ms to 10 s: cached reads land in the low milliseconds, list pages and stats in tens to hundreds.
    httpRequestDuration: new Histogram({
      name: 'wsm_api_http_request_duration_seconds',
      help: 'Time from request arrival to response headers and body handed to Node, by route, method and status.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    prismaQueryDuration: new Histogram({
      name: 'wsm_api_prisma_query_duration_seconds',
      help: 'Time of one Prisma Client operation, by model and operation (raw SQL by the model it reads and its name, e.g. Stock readStockRows).',
      labelNames: ['model', 'operation'] as const,
      buckets: DATABASE_SECONDS_BUCKETS,
      registers,
    }),
    cacheRequests: new Counter({
      name: 'wsm_api_cache_requests_total',
      help: 'Read-cache lookups, by cache name and result (hit, miss, coalesced).',
      labelNames: ['cache', 'result'] as const,
      registers,
    }),
    sseSubscribers: new Gauge({
      name: 'wsm_api_sse_subscribers',
      help: 'Open server-sent-event streams of status changes.',
      registers,
    }),
    sseRefused: new Counter({
      name: 'wsm_api_sse_refused_total',
      help: 'Live-stream subscriptions refused with 503, by reason: full (API_SSE_MAX_SUBSCRIBERS reached) or not_live (LISTEN connection down).',
      labelNames: ['reason'] as const,
      registers,
    }),
    sseEventsSent: new Counter({
      name: 'wsm_api_sse_events_sent_total',
      help: 'Status-change events written to server-sent-event streams (one per subscriber per change).',
      registers,
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
