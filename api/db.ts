import { PrismaPg } from '@prisma/adapter-pg';
import { connectionConfig } from '../lib/db/connection.js';
import { createLogger } from '../lib/log.js';
import { type Prisma, PrismaClient } from './generated/prisma/client.js';
import type { ApiMetrics } from './metrics.js';

/**
 * The API's one Prisma client (Prisma Client 7 on node-postgres through @prisma/adapter-pg, no
 * query engine binary), extended so every operation is timed into
 * wsm_api_prisma_query_duration_seconds{model,operation}.
 *
 * Its pool's connections carry the limits of lib/db/connection.ts: a query the server runs past
 * `statementTimeoutMs` is cancelled (57014), a database that stops answering altogether
 * (blackholed network) fails the query after the client-side wait, and a connection that cannot
 * be opened or taken from a full pool fails after `connectTimeoutMs`. pg-pool discards a
 * connection whose query failed (its `release(error)`), so a timed-out connection is never reused.
 * api/unavailable.ts turns these errors into 503 answers.
 */

const log = createLogger('api.db');

export interface DatabaseOptions {
  /** Connections in the pool. */
  poolSize?: number;
  /** statement_timeout of every session (API_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
  /** Client-side wait for an answer; default the statement limit plus 1 s. */
  queryTimeoutMs?: number;
  /** Wait for a pooled connection (opening one included); default 2 s. */
  connectTimeoutMs?: number;
  /** Called with every statement and its parameters (Prisma's query event); tests capture the SQL the routes run. */
  onQuery?: (sql: string, params: unknown[]) => void;
}

/**
 * 1 s over the statement limit: long enough for the server's own cancel to arrive first over a
 * working link (a round trip here is well under a millisecond), short because an HTTP client is
 * waiting. lib/db/connection.ts's default margin (5 s) suits the processor's batch writes.
 */
const QUERY_WAIT_MARGIN_MS = 1000;
/** A request waits at most this long for a connection; a healthy pool hands one out in microseconds. */
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

/**
 * Names for Prisma's statements, so node-postgres prepares each distinct SQL text once per
 * connection and later executions skip PostgreSQL's parse and plan (unnamed statements are
 * parsed and planned on every call). The SQL text is the key: Prisma renders every parameter as a
 * placeholder, so the distinct texts are the query shapes of the routes, a few hundred at most;
 * past MAX_PREPARED_SHAPES further shapes run unnamed instead of growing every connection's cache.
 * A prepared statement may switch to a generic plan after five executions (plan_cache_mode auto):
 * api/__tests__/query-plans.test.ts checks the generic plan of every list query too.
 */
const MAX_PREPARED_SHAPES = 2000;
function preparedStatementNames(): (query: { sql: string }) => string {
  const names = new Map<string, string>();
  return ({ sql }) => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_PREPARED_SHAPES) {
      name = `wsm_${names.size}`;
      names.set(sql, name);
    }
    return name ?? '';
  };
}

/** Labels of the API's raw statements, by SQL text (Prisma hands the extension a copy of the Sql object, not the same one). */
const QUERY_NAMES = new Map<string, { model: string; operation: string }>();

/**
 * `sql`, labelled for wsm_api_prisma_query_duration_seconds as {model, operation}: the API's raw
 * statements are timed by what they read, not lumped together as `$queryRaw`. The texts are the
 * routes' query shapes; past MAX_PREPARED_SHAPES new ones stay unlabelled ("raw").
 */
export function namedQuery(model: string, operation: string, sql: Prisma.Sql): Prisma.Sql {
  if (QUERY_NAMES.size < MAX_PREPARED_SHAPES) QUERY_NAMES.set(sql.sql, { model, operation });
  return sql;
}

export function createDatabase(databaseUrl: string, metrics: Pick<ApiMetrics, 'prismaQueryDuration'>, options: DatabaseOptions) {
  const config = connectionConfig(databaseUrl, {
    applicationName: 'wsm-api',
    statementTimeoutMs: options.statementTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs ?? options.statementTimeoutMs + QUERY_WAIT_MARGIN_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
  const adapter = new PrismaPg(
    { ...config, max: options.poolSize ?? 10 },
    {
      // pg attaches the whole client to the error: log what identifies it, not the object.
      onPoolError: (error) => log.warn({ err: { message: error.message, code: (error as { code?: string }).code } }, 'an idle pooled connection failed (it is discarded)'),
      statementNameGenerator: preparedStatementNames(),
    },
  );
  // errorFormat 'minimal': the default formats errors with the caller's source line, for which
  // Prisma captures a stack trace (new Error()) on every query, errors or not: 3% of the API's CPU
  // under make load. The API logs errors with their own stack and never shows Prisma's message.
  const base = new PrismaClient({ adapter, errorFormat: 'minimal', ...(options.onQuery ? { log: [{ emit: 'event', level: 'query' }] } : {}) });
  const onQuery = options.onQuery;
  // Query events cost a JSON string of the parameters per query: only when asked. The client's
  // type only offers $on('query') when the log option is a literal, hence the cast.
  if (onQuery) base.$on('query' as never, (event: Prisma.QueryEvent) => onQuery(event.query, JSON.parse(event.params) as unknown[]));
  return base.$extends({
    name: 'query-metrics',
    query: {
      async $allOperations({ model, operation, args, query }) {
        const named = model ? undefined : QUERY_NAMES.get((args as Prisma.Sql).sql);
        const end = metrics.prismaQueryDuration.startTimer({ model: model ?? named?.model ?? 'raw', operation: named?.operation ?? operation });
        try {
          const result: unknown = await query(args);
          return result;
        } finally {
          end();
        }
      },
    },
  });
}

export type Database = ReturnType<typeof createDatabase>;
