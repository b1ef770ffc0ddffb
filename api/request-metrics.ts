import type { Context, Next } from 'koa';
import { UNMATCHED_ROUTE, type ApiMetrics } from './metrics.js';

/**
 * Counts and times every request by route template (`/api/movements/:movementId`), never by raw
 * path: a scan of random URLs adds no series. Runs outermost, so it sees the status the error
 * middleware chose.
 *
 * The labelled children are kept per (route, method, status): prom-client hashes a label object on
 * every inc() and observe(), which is a visible share of a cached read's CPU (a cache hit costs
 * about 80 us in all under make load). The set is small and bounded: route templates (or
 * `unmatched`) times methods times statuses.
 */
export function requestMetrics(metrics: Pick<ApiMetrics, 'httpRequests' | 'httpRequestDuration'>) {
  const children = new Map<string, { requests: { inc(): void }; duration: { observe(value: number): void } }>();
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : UNMATCHED_ROUTE;
      const status = ctx.status;
      const key = `${route} ${ctx.method} ${status}`;
      let child = children.get(key);
      if (!child) {
        const labels = { route, method: ctx.method, status: String(status) };
        child = { requests: metrics.httpRequests.labels(labels), duration: metrics.httpRequestDuration.labels(labels) };
        children.set(key, child);
      }
      child.requests.inc();
      child.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
