import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { preload, preloadShape } from '../bench/preload.js';

/**
 * `make profile-merge --preload N` measures merges on top of the preload, so the preload must be
 * a state the processor could have written: every stock row is the sum of its key's applied
 * ledger rows, every ledger row's stock_after is its key's running balance, each movement holds
 * exactly its ledger sides, the running totals agree with the tables, and the indexes are the
 * schema's. Checked on the real embedded PostgreSQL for sizes below, at and past one round of
 * movements (3 warehouses x 4 products = 12 keys), then a batch is merged on top.
 */

const warehouseIds = Array.from({ length: 3 }, () => randomUUID());
const productIds = Array.from({ length: 4 }, () => randomUUID());
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

/** Rows of `sql` on `pool`; a consistency query returns the rows that break its rule. */
const rowsOf = async (pool: pg.Pool, sql: string): Promise<unknown[]> => (await pool.query<Record<string, unknown>>(sql)).rows;

const indexDefinitions = (pool: pg.Pool): Promise<unknown[]> =>
  rowsOf(pool, `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`);

describe('preloadShape', () => {
  it('writes one opening per key first, then whole movements', () => {
    expect(preloadShape(0, 3, 4)).toEqual({ keys: 12, openings: 0, movements: 0, rounds: 0, ledgerRows: 0 });
    expect(preloadShape(7, 3, 4)).toEqual({ keys: 12, openings: 7, movements: 0, rounds: 0, ledgerRows: 7 });
    expect(preloadShape(12 + 24, 3, 4)).toEqual({ keys: 12, openings: 12, movements: 12, rounds: 1, ledgerRows: 36 });
    expect(preloadShape(12 + 2 * 29 + 1, 3, 4)).toEqual({ keys: 12, openings: 12, movements: 29, rounds: 3, ledgerRows: 70 });
    expect(() => preloadShape(-1, 3, 4)).toThrow(RangeError);
  });
});

describe('preload', () => {
  // 7: openings only, not every key; 36: exactly one round; 71: two rounds and a partial third
  // (keys that sent but did not receive in it, and the reverse); 12 + 2 x 12 x 4: four rounds, so
  // the warehouse shift wraps around (3 warehouses: shifts 1, 2, 1, 2).
  it.each([7, 36, 71, 12 + 2 * 12 * 4])('writes a consistent history of %i ledger rows', async (rows) => {
    const database = await createTestDatabase('preload');
    databases.push(database);
    const pool = database.pool;
    const schemaIndexes = await indexDefinitions(pool);

    const client = await pool.connect();
    const shape = await preload(client, { rows, warehouseIds, productIds, endTimeMs: Date.UTC(2025, 0, 6, 8) }).finally(() => client.release());

    expect(await rowsOf(pool, 'SELECT count(*)::int AS n FROM events')).toEqual([{ n: shape.ledgerRows }]);
    expect(await indexDefinitions(pool)).toEqual(schemaIndexes);
    // Every ledger row applied, in order, with distinct ids; stock_after is the key's running balance.
    expect(await rowsOf(pool, `SELECT count(DISTINCT message_id)::int AS ids, min(seq)::int AS first, max(seq)::int AS last,
                                      count(*) FILTER (WHERE outcome <> 'applied')::int AS rejected FROM events`)).toEqual([
      { ids: shape.ledgerRows, first: 1, last: shape.ledgerRows, rejected: 0 },
    ]);
    expect(
      await rowsOf(pool, `SELECT seq FROM (
          SELECT seq, stock_after, sum(CASE event WHEN 'arrival' THEN quantity ELSE -quantity END)
                 OVER (PARTITION BY warehouse_id, product_id ORDER BY seq) AS running FROM events) r
        WHERE stock_after <> running`),
    ).toEqual([]);
    // Event times grow with the ledger position; a movement's arrival comes after its departure.
    expect(await rowsOf(pool, `SELECT seq FROM (SELECT seq, event_time, lag(event_time) OVER (ORDER BY seq) AS before FROM events) t WHERE event_time <= before`)).toEqual([]);
    // Stock: one row per key with a ledger row, the sum of its applied rows, its last event, its status.
    expect(
      await rowsOf(pool, `SELECT l.warehouse_id, l.product_id FROM (
          SELECT DISTINCT ON (warehouse_id, product_id) warehouse_id, product_id, message_id,
                 sum(CASE event WHEN 'arrival' THEN quantity ELSE -quantity END) OVER (PARTITION BY warehouse_id, product_id) AS total
            FROM events ORDER BY warehouse_id, product_id, seq DESC) l
        FULL JOIN stock s USING (warehouse_id, product_id)
       WHERE s.quantity IS DISTINCT FROM l.total OR s.last_message_id IS DISTINCT FROM l.message_id
          OR s.status IS DISTINCT FROM stock_status_for(l.total, 10)`),
    ).toEqual([]);
    // Movements: each ledger row is its movement's side, and each side is a ledger row.
    expect(
      await rowsOf(pool, `SELECT e.seq FROM events e LEFT JOIN movements m USING (movement_id)
        WHERE CASE e.event WHEN 'departure'
                THEN (m.departure_message_id, m.source_warehouse_id, m.departed_at, m.quantity_sent, m.departure_product_id)
                     IS DISTINCT FROM (e.message_id, e.warehouse_id, e.event_time, e.quantity, e.product_id)
                ELSE (m.arrival_message_id, m.destination_warehouse_id, m.arrived_at, m.quantity_received, m.arrival_product_id)
                     IS DISTINCT FROM (e.message_id, e.warehouse_id, e.event_time, e.quantity, e.product_id) END`),
    ).toEqual([]);
    expect(
      await rowsOf(pool, `SELECT movement_id FROM movements m
        WHERE (departure_message_id IS NOT NULL AND NOT EXISTS (SELECT FROM events e WHERE e.message_id = m.departure_message_id))
           OR (arrival_message_id IS NOT NULL AND NOT EXISTS (SELECT FROM events e WHERE e.message_id = m.arrival_message_id))
           OR departed_at >= arrived_at`),
    ).toEqual([]);
    // The status log and every running total agree with the tables (console_totals_recount would change nothing).
    expect(
      await rowsOf(pool, `SELECT s.warehouse_id FROM stock s
        LEFT JOIN LATERAL (SELECT status FROM status_changes c WHERE (c.warehouse_id, c.product_id) = (s.warehouse_id, s.product_id) ORDER BY id DESC LIMIT 1) c ON true
        WHERE c.status IS DISTINCT FROM s.status`),
    ).toEqual([]);
    const totals = async (): Promise<unknown[]> =>
      rowsOf(pool, `SELECT name, value::int FROM ledger_totals WHERE name NOT LIKE '%\\_ms' ORDER BY name`);
    const counter = async (): Promise<unknown[]> => rowsOf(pool, 'SELECT total::int FROM status_change_counter');
    const written = [await totals(), await counter(), await rowsOf(pool, 'SELECT day, total::int FROM status_changes_per_day ORDER BY day')];
    expect(written[1]).toEqual(await rowsOf(pool, 'SELECT count(*)::int AS total FROM status_changes'));
    expect(await rowsOf(pool, `SELECT value::int FROM ledger_totals WHERE name IN ('events:applied', 'stock_rows') ORDER BY name`)).toEqual([
      { value: shape.ledgerRows },
      { value: shape.openings },
    ]);
    await pool.query('SELECT console_totals_recount()');
    expect([await totals(), await counter(), await rowsOf(pool, 'SELECT day, total::int FROM status_changes_per_day ORDER BY day')]).toEqual(written);

    // The processor merges on top: a departure of a preloaded key's whole stock is covered.
    const [stock] = (await pool.query<{ warehouse_id: string; product_id: string; quantity: string }>('SELECT warehouse_id, product_id, quantity FROM stock ORDER BY quantity DESC LIMIT 1')).rows;
    const applied = await applyEnvelopes(database.url, [
      envelope({ warehouse_id: stock!.warehouse_id, product_id: stock!.product_id, event: 'departure', quantity: Number(stock!.quantity) }),
    ]);
    expect(applied).toMatchObject({ applied: 1, insufficient_stock: 0 });
    expect(await rowsOf(pool, `SELECT quantity::int, status FROM stock WHERE (warehouse_id, product_id) = ('${stock!.warehouse_id}', '${stock!.product_id}')`)).toEqual([
      { quantity: 0, status: 'out_of_stock' },
    ]);
  }, 120_000);

  it('refuses a database whose ledger is not empty', async () => {
    const database = await createTestDatabase('preload');
    databases.push(database);
    await applyEnvelopes(database.url, [envelope({ event: 'arrival', quantity: 5 })]);
    const client = await database.pool.connect();
    await expect(preload(client, { rows: 10, warehouseIds, productIds, endTimeMs: 0 }).finally(() => client.release())).rejects.toThrow('empty ledger');
  });
});
