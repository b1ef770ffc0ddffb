import { expect } from 'vitest';
import type pg from 'pg';
import type { Oracle } from './oracle.js';

/** Asserts the database ends in exactly the oracle's ledger outcomes, stock, movements and status-change count. */
export async function expectDatabaseMatchesOracle(pool: pg.Pool, oracle: Oracle): Promise<void> {
  const ledger = await pool.query<{ message_id: string; outcome: string; reject_reason: string | null }>(
    'SELECT message_id, outcome, reject_reason FROM events',
  );
  const actualOutcomes = new Map(ledger.rows.map((row) => [row.message_id, row.reject_reason ?? row.outcome]));
  expect(actualOutcomes.size).toBe(oracle.outcomes.size);
  const mismatches = [...oracle.outcomes].filter(([id, outcome]) => actualOutcomes.get(id) !== outcome);
  expect(mismatches.slice(0, 5)).toEqual([]);

  const stock = await pool.query<{ warehouse_id: string; product_id: string; quantity: string }>('SELECT warehouse_id, product_id, quantity FROM stock');
  const actualStock = Object.fromEntries(stock.rows.map((row) => [`${row.warehouse_id}/${row.product_id}`, Number(row.quantity)]));
  expect(actualStock).toEqual(Object.fromEntries(oracle.stock));

  const movements = await pool.query<{ movement_id: string; source_warehouse_id: string | null; quantity_sent: number | null; destination_warehouse_id: string | null; quantity_received: number | null }>(
    'SELECT movement_id, source_warehouse_id, quantity_sent, destination_warehouse_id, quantity_received FROM movements',
  );
  const actualMovements = Object.fromEntries(
    movements.rows.map((row) => [row.movement_id, [row.source_warehouse_id, row.quantity_sent, row.destination_warehouse_id, row.quantity_received]]),
  );
  const expectedMovements = Object.fromEntries(
    [...oracle.movements].map(([id, m]) => [id, [m.departure?.warehouse ?? null, m.departure?.quantity ?? null, m.arrival?.warehouse ?? null, m.arrival?.quantity ?? null]]),
  );
  expect(actualMovements).toEqual(expectedMovements);

  const counter = await pool.query<{ total: string }>('SELECT total FROM status_change_counter');
  const logged = await pool.query<{ count: string }>('SELECT count(*) FROM status_changes');
  expect(Number(counter.rows[0]?.total)).toBe(oracle.statusChanges);
  expect(Number(logged.rows[0]?.count)).toBe(oracle.statusChanges);

  // The running totals the stats endpoint reads agree with the tables they summarise.
  const totals = await pool.query<{ name: string; value: string }>("SELECT name, value FROM ledger_totals WHERE name NOT LIKE 'events:%\_ms'");
  const counted = await pool.query<{ name: string; value: string }>(`
    SELECT 'events:' || coalesce(reject_reason::text, 'applied') AS name, count(*)::text AS value FROM events GROUP BY 1
    UNION ALL SELECT 'stock_rows', count(*)::text FROM stock HAVING count(*) > 0
    UNION ALL SELECT 'dead_letters:' || reason, count(*)::text FROM dead_letters GROUP BY reason
    UNION ALL SELECT 'stock_rows:' || status, count(*)::text FROM stock WHERE status <> 'out_of_stock' GROUP BY status
    UNION ALL SELECT 'movements:in_transit', count(*)::text FROM movements WHERE arrival_message_id IS NULL`);
  const asMap = (rows: { name: string; value: string }[]) => Object.fromEntries(rows.filter((r) => r.value !== '0').map((r) => [r.name, Number(r.value)]));
  expect(asMap(totals.rows)).toEqual(asMap(counted.rows));
  const perDay = await pool.query<{ name: string; value: string }>('SELECT day::text AS name, total::text AS value FROM status_changes_per_day');
  const changesPerDay = await pool.query<{ name: string; value: string }>(
    "SELECT (changed_at AT TIME ZONE 'UTC')::date::text AS name, count(*)::text AS value FROM status_changes GROUP BY 1",
  );
  expect(asMap(perDay.rows)).toEqual(asMap(changesPerDay.rows));

  const negative = await pool.query('SELECT 1 FROM stock WHERE quantity < 0');
  expect(negative.rowCount).toBe(0);
}
