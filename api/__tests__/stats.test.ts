import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { startApi, type ApiHarness } from './helpers.js';

/**
 * The console's headline figures in GET /api/stats (stock rows by status, movements in transit,
 * status changes today): running totals kept by triggers (migration console_stats), checked
 * against counts of the tables after every step of a story that crosses every status boundary in
 * both directions and completes movements in later batches than they started.
 */

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

/** The same figures counted from the tables, the slow way the totals replace. */
async function counted() {
  const { rows } = await api.database.pool.query<{ available: string; low: string; out_of_stock: string; in_transit: string; today: string }>(`
    SELECT count(*) FILTER (WHERE status = 'available') AS available,
           count(*) FILTER (WHERE status = 'low') AS low,
           count(*) FILTER (WHERE status = 'out_of_stock') AS out_of_stock,
           (SELECT count(*) FROM movements WHERE departure_message_id IS NOT NULL AND arrival_message_id IS NULL) AS in_transit,
           (SELECT count(*) FROM status_changes WHERE changed_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS today
      FROM stock`);
  const row = rows[0]!;
  return {
    stockRowsByStatus: { available: Number(row.available), low: Number(row.low), out_of_stock: Number(row.out_of_stock) },
    movementsInTransit: Number(row.in_transit),
    statusChangesToday: Number(row.today),
  };
}

async function stats() {
  const response = await api.get('/api/stats');
  expect(response.status).toBe(200);
  const { stockRowsByStatus, movementsInTransit, statusChangesToday } = response.body as Awaited<ReturnType<typeof counted>>;
  return { stockRowsByStatus, movementsInTransit, statusChangesToday };
}

describe('GET /api/stats: the console figures', () => {
  const W1 = randomUUID();
  const W2 = randomUUID();
  const P1 = randomUUID();
  const P2 = randomUUID();
  const M1 = randomUUID();
  const M2 = randomUUID();
  const M3 = randomUUID();

  it('start at zero on an empty store', async () => {
    expect(await stats()).toEqual({ stockRowsByStatus: { available: 0, low: 0, out_of_stock: 0 }, movementsInTransit: 0, statusChangesToday: 0 });
  });

  it('follow every status boundary and every movement state, batch after batch, as the tables count them', async () => {
    const steps: { name: string; batch: ReturnType<typeof envelope>[]; expected: Awaited<ReturnType<typeof counted>> }[] = [
      {
        name: 'W1/P1 arrives available, W1/P2 arrives low, M1 departs W1 (in transit)',
        batch: [
          envelope({ warehouse_id: W1, product_id: P1, quantity: 50 }),
          envelope({ warehouse_id: W1, product_id: P2, quantity: 4 }),
          envelope({ movement_id: M1, warehouse_id: W1, product_id: P1, event: 'departure', quantity: 45 }),
        ],
        // W1/P1: out_of_stock -> available -> low (5); W1/P2: out_of_stock -> low.
        expected: { stockRowsByStatus: { available: 0, low: 2, out_of_stock: 0 }, movementsInTransit: 1, statusChangesToday: 3 },
      },
      {
        name: 'M1 arrives at W2 (completed by an update), M2 departs W1 with all of P2 (out of stock), M3 arrives before its departure',
        batch: [
          envelope({ movement_id: M1, warehouse_id: W2, product_id: P1, event: 'arrival', quantity: 44 }),
          envelope({ movement_id: M2, warehouse_id: W1, product_id: P2, event: 'departure', quantity: 4 }),
          envelope({ movement_id: M3, warehouse_id: W2, product_id: P2, event: 'arrival', quantity: 3 }),
        ],
        // W2/P1 new, available; W1/P2 low -> out_of_stock; W2/P2 new, low. In transit: M2 only.
        expected: { stockRowsByStatus: { available: 1, low: 2, out_of_stock: 1 }, movementsInTransit: 1, statusChangesToday: 6 },
      },
      {
        name: "M3's departure comes late (its movement stays out of transit), a departure the stock cannot cover, W1/P2 refilled",
        batch: [
          envelope({ movement_id: M3, warehouse_id: W1, product_id: P1, event: 'departure', quantity: 3 }),
          envelope({ warehouse_id: W1, product_id: P2, quantity: 30 }),
          envelope({ movement_id: randomUUID(), warehouse_id: W2, product_id: P2, event: 'departure', quantity: 1000 }),
        ],
        // W1/P1 5 -> 2 (low, no change); W1/P2 out_of_stock -> available; the rejected departure is in transit.
        expected: { stockRowsByStatus: { available: 2, low: 2, out_of_stock: 0 }, movementsInTransit: 2, statusChangesToday: 7 },
      },
    ];
    for (const step of steps) {
      await applyEnvelopes(api.database.url, step.batch);
      const figures = await stats();
      expect(figures, step.name).toEqual(step.expected);
      expect(figures, `${step.name}: as the tables count them`).toEqual(await counted());
    }
  });

  it('are recomputed from the tables by console_totals_recount() to the same values', async () => {
    const before = await stats();
    await api.database.pool.query("UPDATE ledger_totals SET value = 0 WHERE name IN ('stock_rows:available', 'stock_rows:low', 'movements:in_transit')");
    await api.database.pool.query('DELETE FROM status_changes_per_day');
    expect(await stats()).not.toEqual(before);
    await api.database.pool.query('SELECT console_totals_recount()');
    expect(await stats()).toEqual(before);
  });

  it('never fail a write when a total would go below zero: a status change written by hand is clamped, not refused', async () => {
    await api.database.pool.query("UPDATE ledger_totals SET value = 0 WHERE name = 'stock_rows:low'");
    await api.database.pool.query(
      "INSERT INTO status_changes (warehouse_id, product_id, previous_status, status, quantity, message_id) VALUES ($1, $2, 'low', 'available', 20, $3)",
      [randomUUID(), randomUUID(), randomUUID()],
    );
    const { rows } = await api.database.pool.query<{ value: string }>("SELECT value FROM ledger_totals WHERE name = 'stock_rows:low'");
    expect(rows[0]?.value).toBe('0');
  });
});
