import pg from 'pg';
import { validateEnvelope, type Envelope } from '../event.js';
import { Batch } from '../../processor/batch.js';
import { readStoredOffsets } from '../../processor/sql/offsets.js';
import { setLowStockThreshold } from '../../processor/sql/stock-settings.js';
import type { ApplyResult } from '../../processor/sql/apply-batch.js';
import { BatchWriter } from '../../processor/writer.js';

/**
 * Applies envelopes through the processor's real write path (COPY into staging + apply_batch), as
 * one batch read from partition 0 of `topic`, continuing after the offsets already stored. For
 * tests that need processor output without running a consumer. `lowThreshold` first stores that
 * low-stock threshold, as a processor started with it would (re-evaluating every status).
 */
export async function applyEnvelopes(
  databaseUrl: string,
  envelopes: readonly Envelope[],
  options: { lowThreshold?: number; topic?: string; groupId?: string } = {},
): Promise<ApplyResult> {
  const topic = options.topic ?? 'test.movements';
  const groupId = options.groupId ?? 'test-group';
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const stored = await (async () => {
    if (options.lowThreshold !== undefined) await setLowStockThreshold(pool, options.lowThreshold);
    return readStoredOffsets(pool, groupId, topic, [0]);
  })().finally(() => pool.end());
  let offset = stored.get(0) ?? 0;

  const batch = new Batch(topic);
  for (const envelope of envelopes) {
    const result = validateEnvelope(envelope);
    if (!result.ok) throw new Error(`applyEnvelopes: invalid envelope (${result.reason}: ${result.detail})`);
    batch.add({ kind: 'event', topic, partition: 0, offset: offset++, key: Buffer.from(result.event.warehouseId), event: result.event });
  }
  const writer = new BatchWriter({ databaseUrl, groupId, collectNotifications: false });
  try {
    return (await writer.write(batch)).apply;
  } finally {
    await writer.close();
  }
}
