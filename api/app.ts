import Router from '@koa/router';
import Koa from 'koa';
import type { ApiDeps } from './deps.js';
import { buildDocument } from './openapi/document.js';
import type { ResourceRouter } from './openapi/route.js';
import { problemMiddleware } from './problem.js';
import { requestMetrics } from './request-metrics.js';
import { consoleRouter } from './routes/console.js';
import { deadLettersRouter } from './routes/dead-letters.js';
import { eventsRouter } from './routes/events.js';
import { movementsRouter } from './routes/movements.js';
import { statsRouter } from './routes/stats.js';
import { statusChangesRouter } from './routes/status-changes.js';
import { stockRouter } from './routes/stock.js';
import { systemRouter } from './routes/system.js';

/**
 * Builds the API's Koa app without binding a port: server.ts listens, tests call
 * `app.callback()` through their own HTTP server. Middleware order, outermost first: request
 * metrics (sees the final status), problem details (turns every error into a body), the routers.
 */

export const API_DESCRIPTION =
  'Read API of the warehouse stock monitor: current stock, movements, the event ledger, dead letters and stock status ' +
  'changes (also live, as Server-Sent Events), written by the batch processor. Lists are keyset-paginated: pass ' +
  '`nextCursor` back as `cursor`. Errors are application/problem+json (RFC 9457). Single stock rows, single movements ' +
  'and stats are served from a read cache: an answer is at most API_CACHE_TTL_MS (default 1000 ms; 0 disables) plus ' +
  'one database read older than the request, and concurrent requests for one key share one query.';

export interface App {
  app: Koa;
  /** Every route this app serves, with its spec (the OpenAPI document is built from them). */
  routers: ResourceRouter[];
  document: Record<string, unknown>;
}

export function createApp(deps: ApiDeps): App {
  const app = new Koa();
  app.proxy = false;
  // Koa logs errors on 'error' unless silenced; the problem middleware already logged real ones.
  app.silent = true;

  let document: Record<string, unknown> = {};
  const routers = [
    stockRouter(deps),
    movementsRouter(deps),
    eventsRouter(deps),
    deadLettersRouter(deps),
    statusChangesRouter(deps),
    statsRouter(deps),
    consoleRouter(deps.consoleDir),
    systemRouter(deps, () => document),
  ];
  document = buildDocument(
    routers.flatMap((r) => r.specs),
    { title: 'Warehouse stock monitor API', version: '1.0.0', description: API_DESCRIPTION },
  );

  app.use(requestMetrics(deps.metrics));
  app.use(problemMiddleware);
  // One root router, so a known path with another method answers 405 (with Allow) and not 404.
  const root = new Router();
  for (const { router } of routers) root.use(router.routes());
  app.use(root.routes());
  app.use(root.allowedMethods());
  return { app, routers, document };
}
