import type { Database } from '../db.js';

/**
 * The numbers behind GET /api/stats, none of which scans a whole table: totals from
 * `ledger_totals` (kept by triggers, init and console_stats migrations), distinct warehouses and
 * products by a loose index scan (one index descent per distinct value, on stock_pkey and
 * stock_product_warehouse_idx), today's status changes from one row of status_changes_per_day.
 */
export interface StatsRow {
  totals: Map<string, number>;
  warehouses: number;
  products: number;
  /** Status changes since 00:00 UTC of the database's current day. */
  statusChangesToday: number;
}

export async function readStats(db: Database): Promise<StatsRow> {
  const [totals, distinct] = await Promise.all([
    db.ledgerTotal.findMany(),
    // Prisma has no recursive CTE: one raw statement with no input in it.
    db.$queryRaw<{ warehouses: bigint; products: bigint; status_changes_today: bigint | null }[]>`
      WITH RECURSIVE warehouses AS (
          (SELECT warehouse_id AS id FROM stock ORDER BY warehouse_id LIMIT 1)
          UNION ALL
          SELECT (SELECT s.warehouse_id FROM stock s WHERE s.warehouse_id > w.id ORDER BY s.warehouse_id LIMIT 1)
            FROM warehouses w WHERE w.id IS NOT NULL
      ), products AS (
          (SELECT product_id AS id FROM stock ORDER BY product_id LIMIT 1)
          UNION ALL
          SELECT (SELECT s.product_id FROM stock s WHERE s.product_id > p.id ORDER BY s.product_id LIMIT 1)
            FROM products p WHERE p.id IS NOT NULL
      )
      SELECT (SELECT count(id) FROM warehouses) AS warehouses, (SELECT count(id) FROM products) AS products,
             (SELECT total FROM status_changes_per_day WHERE day = (now() AT TIME ZONE 'UTC')::date) AS status_changes_today`,
  ]);
  return {
    totals: new Map(totals.map((row) => [row.name, Number(row.value)])),
    warehouses: Number(distinct[0]?.warehouses ?? 0n),
    products: Number(distinct[0]?.products ?? 0n),
    statusChangesToday: Number(distinct[0]?.status_changes_today ?? 0n),
  };
}
