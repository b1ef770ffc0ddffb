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

export function createDatabase(databaseUrl: string, metrics: Pick<ApiMetrics, 'prismaQueryDuration'>, options: DatabaseOptions) {
  const config = connectionConfig(databaseUrl, {
    applicationName: 'wsm-api',
    statementTimeoutMs: options.statementTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs ?? options.statementTimeoutMs + QUERY_WAIT_MARGIN_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
  const adapter = new PrismaPg(
    { ...config, max: options.poolSize ?? 10 },
    // pg attaches the whole client to the error: log what identifies it, not the object.
    { onPoolError: (error) => log.warn({ err: { message: error.message, code: (error as { code?: string }).code } }, 'an idle pooled connection failed (it is discarded)') },
  );
  const base = new PrismaClient(options.onQuery ? { adapter, log: [{ emit: 'event', level: 'query' }] } : { adapter });
  const onQuery = options.onQuery;
  // Query events cost a JSON string of the parameters per query: only when asked. The client's
  // type only offers $on('query') when the log option is a literal, hence the cast.
  if (onQuery) base.$on('query' as never, (event: Prisma.QueryEvent) => onQuery(event.query, JSON.parse(event.params) as unknown[]));
  return base.$extends({
    name: 'query-metrics',
    query: {
      async $allOperations({ model, operation, args, query }) {
        const end = metrics.prismaQueryDuration.startTimer({ model: model ?? 'raw', operation });
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
