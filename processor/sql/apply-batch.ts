import type pg from 'pg';
import type { OffsetGap, PartitionRange } from '../batch.js';

/** What apply_batch reports for one batch (prisma/migrations/…_apply_batch_steps/migration.sql). */
export interface ApplyResult {
  staged: number;
  /** Events new to the ledger (staged minus redeliveries). */
  fresh: number;
  applied: number;
  insufficient_stock: number;
  duplicate_movement_event: number;
  /** Redeliveries whose content differs from the ledger row of their message id (ignored all the same). */
  conflicting: number;
  status_changes: number;
  /** Ids of the first and last status change logged (null when none). */
  first_status_change_id: number | null;
  last_status_change_id: number | null;
  /** Offsets never read that this batch's fence recorded in skipped_offsets. */
  skipped_offsets: number;
  /** The stored low-stock threshold the merge classified with. */
  low_stock_threshold: number;
}

export interface ApplyOptions {
  groupId: string;
  topic: string;
  ranges: readonly PartitionRange[];
  /** Offset ranges missing inside the batch (Batch.gaps). */
  gaps: readonly OffsetGap[];
}

// Named so PostgreSQL parses and plans the call once per connection.
const APPLY_BATCH = {
  name: 'apply_batch',
  text: 'SELECT apply_batch($1, $2, $3::int[], $4::bigint[], $5::bigint[], $6::int[], $7::bigint[], $8::bigint[]) AS result',
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
      options.gaps.map((gap) => gap.partition),
      options.gaps.map((gap) => gap.from),
      options.gaps.map((gap) => gap.to),
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
