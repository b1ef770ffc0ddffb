import type pg from 'pg';

/** What set_low_stock_threshold reports (prisma/migrations/…_stock_settings/migration.sql). */
export interface ThresholdChange {
  changed: boolean;
  previous: number;
  status_changes: number;
  first_status_change_id?: number | null;
  last_status_change_id?: number | null;
}

/**
 * Stores the low-stock threshold; when it differs from the stored one, every stock status is
 * re-evaluated once under the merge lock, each change logged, counted and announced (pg_notify),
 * in the caller's transaction or its own.
 */
export async function setLowStockThreshold(client: pg.ClientBase | pg.Pool, threshold: number): Promise<ThresholdChange> {
  const { rows } = await client.query<{ result: ThresholdChange }>('SELECT set_low_stock_threshold($1) AS result', [threshold]);
  const result = rows[0]?.result;
  if (!result) throw new Error('set_low_stock_threshold returned no row');
  return result;
}
