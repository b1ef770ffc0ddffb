import type { Context, Next } from 'koa';
import { UNMATCHED_ROUTE, type ApiMetrics } from './metrics.js';

/**
 * Counts and times every request by route template (`/api/movements/:movementId`), never by raw
 * path: a scan of random URLs adds no series. Runs outermost, so it sees the status the error
 * middleware chose.
 */
export function requestMetrics(metrics: Pick<ApiMetrics, 'httpRequests' | 'httpRequestDuration'>) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
      const labels = { route: typeof matched === 'string' ? matched : UNMATCHED_ROUTE, method: ctx.method, status: String(ctx.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
