import pg from 'pg';
import { connectionConfig, isClientTimeout } from '../lib/db/connection.js';
import { backoffDelayMs, sleep } from '../processor/backoff.js';

/**
 * The migration job's first step: wait until the database accepts a session. On a first
 * `make start` the server may not listen yet, be refusing sessions while it starts (SQLSTATE
 * 57P03, "the database system is starting up"), or its container may not resolve yet. Those are
 * retried; a refused login or a missing database is a configuration error and fails at once.
 */

/** Node's network errors and PostgreSQL's cannot_connect_now: the server is not there yet. */
const NOT_YET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', '57P03']);

function notYet(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (code !== undefined && NOT_YET.has(code)) || isClientTimeout(error) || message === 'Connection terminated unexpectedly';
}

export interface WaitOptions {
  /** Give up after this long; 60 s covers a first start's initialisation of an empty volume. */
  timeoutMs?: number;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (error: Error, attempt: number) => void;
}

/**
 * Resolves once a session on `url` answers `SELECT 1`.
 *
 * @throws the last error when it is not one of waiting, or when `timeoutMs` has passed
 */
export async function waitForDatabase(url: string, options: WaitOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client(connectionConfig(url, { applicationName: 'migrate', statementTimeoutMs: 10_000 }));
    // An error after connect (the server going away) must not be thrown as uncaught.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (!notYet(error)) throw error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the database did not accept a session within ${options.timeoutMs ?? 60_000} ms: ${(error as Error).message}`, { cause: error });
      options.onRetry?.(error as Error, attempt);
      await sleep(Math.min(backoffDelayMs(attempt, 200, 5_000), left));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
