import type pg from 'pg';
import type { PartitionRange } from '../batch.js';

/** What apply_batch reports for one batch (prisma/migrations/…_apply_batch/migration.sql). */
export interface ApplyResult {
  staged: number;
  /** Events new to the ledger (staged minus redeliveries). */
  fresh: number;
  applied: number;
  insufficient_stock: number;
  duplicate_movement_event: number;
  status_changes: number;
  /** Ids of the first and last status change logged (null when none). */
  first_status_change_id: number | null;
  last_status_change_id: number | null;
}

export interface ApplyOptions {
  groupId: string;
  topic: string;
  ranges: readonly PartitionRange[];
  lowStockThreshold: number;
}

// Named so PostgreSQL parses and plans the call once per connection.
const APPLY_BATCH = {
  name: 'apply_batch',
  text: 'SELECT apply_batch($1, $2, $3::int[], $4::bigint[], $5::bigint[], $6) AS result',
};

/** Fences the offsets and merges the staged batch, in the caller's transaction. */
export async function applyBatch(client: pg.ClientBase, options: ApplyOptions): Promise<ApplyResult> {
  const { rows } = await client.query<{ result: ApplyResult }>({
    ...APPLY_BATCH,
    values: [
      options.groupId,
      options.topic,
      options.ranges.map((range) => range.partition),
      options.ranges.map((range) => range.first),
      options.ranges.map((range) => range.next),
      options.lowStockThreshold,
    ],
  });
  const result = rows[0]?.result;
  if (!result) throw new Error('apply_batch returned no row');
  return result;
}

/** Makes this connection's temporary staging and work tables (once per connection). */
export async function prepareBatchSession(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT prepare_batch_session()');
}
