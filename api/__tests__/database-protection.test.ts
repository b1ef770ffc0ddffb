/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { startApi, type ApiHarness } from './helpers.js';

/**
 * What protects the database from the API: the API connects as the read-only role, and its
 * statement timeout cuts a slow query, which answers 503 problem+json rather than a socket that
 * hangs while the query holds a backend.
 */

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ statementTimeoutMs: 300 });
  await applyEnvelopes(api.database.url, [envelope({ event: 'arrival', quantity: 5 })]);
});
afterAll(async () => {
  await api?.close();
});

describe('the API database role', () => {
  it('reads, and is refused every write (permission denied)', async () => {
    const [who] = await api.db.$queryRaw<{ user: string }[]>`SELECT current_user AS user`;
    expect(who?.user).toMatch(/^wsm_api/);
    expect((await api.get('/api/stock')).body.items).toHaveLength(1);
    const refused = (promise: Promise<unknown>) => promise.then(() => 'written', (error: unknown) => JSON.stringify(error));
    expect(await refused(api.db.$executeRaw`UPDATE stock SET quantity = quantity + 1`)).toContain('42501');
    expect(await refused(api.db.$executeRaw`INSERT INTO ledger_totals (name, value) VALUES ('x', 1)`)).toContain('42501');
    expect(await refused(api.db.$executeRaw`DELETE FROM events`)).toContain('42501');
    expect(await refused(api.db.$executeRaw`CREATE TABLE api_was_here (id int)`)).toContain('42501');
    const { rows } = await api.database.pool.query<{ n: string }>('SELECT sum(quantity) AS n FROM stock');
    expect(rows[0]?.n).toBe('5');
  });
});

describe('the statement timeout', () => {
  it('cuts a query stuck behind a lock: 503 problem+json with Retry-After, then 200 once the lock is gone', async () => {
    const locker = await api.database.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE stock IN ACCESS EXCLUSIVE MODE');
      const response = await api.get('/api/stock');
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(response.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
      expect(response.body.detail).toContain('API_STATEMENT_TIMEOUT_MS');
      // The server cancelled it: no API query is left waiting on the lock.
      const waiting = await api.database.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'wsm-api' AND wait_event_type = 'Lock'");
      expect(waiting.rows[0]).toEqual({ n: 0 });
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect((await api.get('/api/stock')).status).toBe(200);
  });
});
