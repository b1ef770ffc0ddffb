import { createLogger } from '../../lib/log.js';
import type { ApiDeps } from '../deps.js';
import { DOCS_PAGE } from '../openapi/docs-page.js';
import { ResourceRouter } from '../openapi/route.js';
import { ProblemError } from '../problem.js';
import { healthSchema, readySchema } from '../schemas/resources.js';

/** Liveness, readiness, Prometheus metrics, the OpenAPI document and its interactive page. */

const log = createLogger('api.system');
const TAG = 'system';
/**
 * A readiness probe waits at most this long for `SELECT 1`: orchestrators time probes out after
 * about a second anyway, and the query itself may wait up to the pool's own limits (seconds).
 */
const READY_TIMEOUT_MS = 2000;

/** `promise`, or a rejection after `ms` (the promise itself runs on; its result is dropped). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `document` is a thunk: the document lists every router, this one included, so it is built last. */
export function systemRouter(deps: ApiDeps, document: () => unknown): ResourceRouter {
  const resource = new ResourceRouter();
  resource.add(
    { method: 'get', path: '/health', operationId: 'health', tag: TAG, summary: 'Liveness: the process answers', responses: { 200: { description: 'Alive.', schema: healthSchema, name: 'Health' } } },
    (ctx) => {
      ctx.body = { status: 'ok' };
    },
  );
  resource.add(
    {
      method: 'get',
      path: '/ready',
      operationId: 'ready',
      tag: TAG,
      summary: 'Readiness: the database answers and the live stream is connected',
      responses: {
        200: { description: 'Ready.', schema: readySchema, name: 'Ready' },
        503: { description: 'The database did not answer within the readiness limit, or the live stream\'s LISTEN connection is down.' },
      },
    },
    async (ctx) => {
      const readyTimeoutMs = deps.readyTimeoutMs ?? READY_TIMEOUT_MS;
      try {
        await withDeadline(deps.db.$queryRaw`SELECT 1`, readyTimeoutMs);
      } catch (error) {
        log.warn({ err: error }, 'readiness check failed');
        throw new ProblemError(503, 'Service Unavailable', `the database did not answer within ${readyTimeoutMs} ms`);
      }
      if (!deps.statusHub.live) throw new ProblemError(503, 'Service Unavailable', 'the live stream\'s LISTEN connection is down (reconnecting)');
      ctx.body = { status: 'ready', database: 'ok', liveStream: 'ok' };
    },
  );
  resource.add(
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      tag: TAG,
      summary: 'Prometheus metrics (wsm_api_*, process metrics)',
      responses: { 200: { description: 'Prometheus text exposition format.', contentType: 'text/plain; version=0.0.4' } },
    },
    async (ctx) => {
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
    },
  );
  resource.add(
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      tag: TAG,
      summary: 'This document (OpenAPI 3.1)',
      responses: { 200: { description: 'The OpenAPI 3.1 document.' } },
    },
    (ctx) => {
      ctx.body = document();
    },
  );
  resource.add(
    {
      method: 'get',
      path: '/docs',
      operationId: 'docs',
      tag: TAG,
      summary: 'Interactive documentation (self-contained page, no external assets)',
      responses: { 200: { description: 'An HTML page that renders /openapi.json and sends requests.', contentType: 'text/html' } },
    },
    (ctx) => {
      ctx.type = 'text/html; charset=utf-8';
      // Everything is inline: allow inline script and style, and requests to this origin only.
      ctx.set('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
      ctx.body = DOCS_PAGE;
    },
  );
  return resource;
}
