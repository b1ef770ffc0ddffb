import { isClientTimeout } from '../lib/db/connection.js';

/**
 * Which errors mean "the database cannot serve this now" (answer 503, the client may retry) as
 * opposed to a defect (500). Errors reach the API in three forms: Prisma's
 * PrismaClientKnownRequestError carrying the driver adapter's error in
 * `meta.driverAdapterError.cause` (`kind`, and the SQLSTATE for server errors), node-postgres'
 * own errors passed through unchanged (its client-side timeouts, a connection that ended), and
 * pg's DatabaseError (`code`) from the LISTEN connection.
 */

export type Unavailability = 'statement_timeout' | 'no_answer' | 'connection';

/** Adapter error kinds (@prisma/adapter-pg convertDriverError) that mean the connection failed. */
const CONNECTION_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);

/** node-postgres messages for a connection that ended under a query (pg/lib/client.js). */
const CONNECTION_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);

/** Socket errors of a connection attempt or an open connection. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * SQLSTATEs of a server that cannot serve now (PostgreSQL appendix A): query_canceled (our
 * statement_timeout), the operator-intervention shutdowns, connection exceptions (class 08),
 * insufficient resources (class 53: too many connections, out of memory or disk).
 */
function fromSqlState(code: string): Unavailability | undefined {
  if (code === '57014') return 'statement_timeout';
  if (code === '57P01' || code === '57P02' || code === '57P03') return 'connection';
  if (code.startsWith('08') || code.startsWith('53')) return 'connection';
  return undefined;
}

/** Why `error` means the database is unavailable, or undefined when it is anything else. */
export function unavailability(error: unknown): Unavailability | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    if (isClientTimeout(current)) return 'no_answer';
    const candidate = current as { message?: unknown; code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown; code?: unknown; originalCode?: unknown } } }; cause?: unknown };
    if (typeof candidate.message === 'string' && CONNECTION_MESSAGES.has(candidate.message)) return 'connection';
    const adapter = candidate.meta?.driverAdapterError?.cause;
    if (adapter) {
      if (typeof adapter.kind === 'string' && CONNECTION_KINDS.has(adapter.kind)) return 'connection';
      const code = typeof adapter.originalCode === 'string' ? adapter.originalCode : adapter.code;
      if (typeof code === 'string') return fromSqlState(code);
      return undefined;
    }
    if (typeof candidate.code === 'string' && SOCKET_CODES.has(candidate.code)) return 'connection';
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      const state = fromSqlState(candidate.code);
      if (state) return state;
    }
    current = candidate.cause;
  }
  return undefined;
}

/** The detail a 503 answer gives for each kind. */
export const UNAVAILABLE_DETAIL: Record<Unavailability, string> = {
  statement_timeout: 'the query ran longer than the API allows (API_STATEMENT_TIMEOUT_MS) and was cancelled; retry later',
  no_answer: 'the database did not answer in time; retry later',
  connection: 'the database connection failed; retry later',
};
