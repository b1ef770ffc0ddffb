import type pg from 'pg';

/**
 * Connection settings every service connection uses, so that a database that stops answering
 * (blackholed network: no RST, packets silently dropped) turns into errors, retries and failed
 * readiness instead of a hang (../shared/design.md section 7).
 *
 * What each setting bounds, and what it does not:
 * - `connectionTimeoutMillis`: the TCP connect plus startup handshake of a new connection.
 * - `statement_timeout`: a statement the server runs for too long (the server cancels it, 57014).
 * - `query_timeout`: the client stops waiting for an answer, whether the server is slow or the
 *   network is gone. The server may still be running the statement, and node-postgres keeps the
 *   connection open: its owner must discard the connection after such an error
 *   ({@link isClientTimeout}), never reuse it.
 * - `keepAlive`: TCP keep-alive on idle connections (first probe after
 *   `keepAliveInitialDelayMillis`; the kernel's probe interval and count still apply, about 11
 *   minutes in all on Linux defaults). Node cannot set TCP_USER_TIMEOUT, so a connection with
 *   unacknowledged data in flight is bounded only by `query_timeout`, and an idle LISTEN
 *   connection should also be probed with a short query by its owner.
 * - `idle_in_transaction_session_timeout`: a session left in an open transaction by a client that
 *   vanished stops holding its locks.
 */
export interface ConnectionLimits {
  /** Shown in pg_stat_activity. */
  applicationName: string;
  /** Server-side statement limit; also the base of the client-side wait. */
  statementTimeoutMs: number;
  /** Client-side wait for any answer; defaults to the statement limit plus 5 s. */
  queryTimeoutMs?: number;
  /** New-connection limit; 5 s by default. */
  connectTimeoutMs?: number;
}

/** The first keep-alive probe of an idle connection goes out after this long. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Margin of the client-side wait over the server's statement limit: the server's error wins when it can answer. */
const CLIENT_WAIT_MARGIN_MS = 5_000;

/** The errors node-postgres 8 raises for its own timeouts (pg/lib/client.js, pg-pool/index.js). */
const CLIENT_TIMEOUT_MESSAGES = new Set([
  'Query read timeout',
  'timeout expired',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
]);

/** node-postgres client settings for `url` with the limits above. */
export function connectionConfig(url: string, limits: ConnectionLimits): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: limits.applicationName,
    connectionTimeoutMillis: limits.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    statement_timeout: limits.statementTimeoutMs,
    query_timeout: limits.queryTimeoutMs ?? limits.statementTimeoutMs + CLIENT_WAIT_MARGIN_MS,
    idle_in_transaction_session_timeout: limits.statementTimeoutMs + CLIENT_WAIT_MARGIN_MS,
  };
}

/**
 * True for node-postgres' own client-side timeouts (`query_timeout`, `connectionTimeoutMillis`):
 * the connection's state is unknown afterwards, so its owner must close it and open a new one.
 */
export function isClientTimeout(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return CLIENT_TIMEOUT_MESSAGES.has(message);
}
