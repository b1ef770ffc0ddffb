import pg from 'pg';
import type { MovementEvent } from '../../lib/event.js';
import { stockStatusFor } from '../../lib/terms.js';

/**
 * The per-message baseline: how the original services applied events, one transaction per event:
 * BEGIN; SELECT the stock row FOR UPDATE; insert the ledger row; update (or insert) the stock row;
 * COMMIT. Prepared statements, so the comparison is with a fair per-message path. Events are split
 * over the connections by warehouse, as Kafka partitions would split them, so per-key order holds.
 */

export interface BaselineResult {
  connections: number;
  /** Run with the ledger_totals triggers disabled (their one hot row serialises connections). */
  withoutTotalsTriggers: boolean;
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

const SELECT_STOCK = {
  name: 'baseline_select_stock',
  text: 'SELECT quantity FROM stock WHERE warehouse_id = $1 AND product_id = $2 FOR UPDATE',
};
const INSERT_EVENT = {
  name: 'baseline_insert_event',
  text: `INSERT INTO events (message_id, movement_id, warehouse_id, product_id, event, quantity, event_time, produced_at,
                             source, topic, "partition", "offset", outcome, reject_reason, stock_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'baseline', $10, $11, $12, $13, $14)
         ON CONFLICT (message_id) DO NOTHING`,
};
const UPSERT_STOCK = {
  name: 'baseline_upsert_stock',
  text: `INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (warehouse_id, product_id) DO UPDATE
            SET quantity = EXCLUDED.quantity, status = EXCLUDED.status, last_message_id = EXCLUDED.last_message_id, updated_at = now()`,
};

async function applyOne(client: pg.Client, e: MovementEvent, partition: number, offset: number, lowThreshold: number): Promise<void> {
  await client.query('BEGIN');
  try {
    const row = await client.query<{ quantity: string }>({ ...SELECT_STOCK, values: [e.warehouseId, e.productId] });
    const before = Number(row.rows[0]?.quantity ?? 0);
    const covered = e.event === 'arrival' || before >= e.quantity;
    const after = !covered ? before : e.event === 'arrival' ? before + e.quantity : before - e.quantity;
    await client.query({
      ...INSERT_EVENT,
      values: [e.messageId, e.movementId, e.warehouseId, e.productId, e.event, e.quantity, new Date(e.eventTimeMs), new Date(e.producedAtMs), e.source,
        partition, offset, covered ? 'applied' : 'rejected', covered ? null : 'insufficient_stock', after],
    });
    if (covered) {
      await client.query({ ...UPSERT_STOCK, values: [e.warehouseId, e.productId, after, stockStatusFor(after, lowThreshold), e.messageId] });
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Applies `events` one transaction each on `connections` connections until all are applied or
 * `maxSeconds` pass; reports the rate. `onProgress` gets the number applied so far.
 */
export async function runBaseline(
  databaseUrl: string,
  events: readonly MovementEvent[],
  connections: number,
  options: { maxSeconds: number; lowThreshold?: number; withoutTotalsTriggers?: boolean; onProgress?: (applied: number) => void },
): Promise<BaselineResult> {
  const lanes: MovementEvent[][] = Array.from({ length: connections }, () => []);
  const laneOf = new Map<string, number>();
  for (const e of events) {
    let lane = laneOf.get(e.warehouseId);
    if (lane === undefined) laneOf.set(e.warehouseId, (lane = laneOf.size % connections));
    lanes[lane]!.push(e);
  }
  const clients = await Promise.all(
    lanes.map(async () => {
      const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-baseline' });
      await client.connect();
      return client;
    }),
  );
  const withoutTotalsTriggers = options.withoutTotalsTriggers ?? false;
  if (withoutTotalsTriggers) {
    // Only on the baseline's own throwaway database: the product keeps these totals for /api/stats.
    await clients[0]!.query('ALTER TABLE events DISABLE TRIGGER events_ledger_totals; ALTER TABLE stock DISABLE TRIGGER stock_ledger_totals_insert');
  }
  let applied = 0;
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;
  const ticker = setInterval(() => options.onProgress?.(applied), 1000);
  try {
    await Promise.all(
      lanes.map(async (lane, i) => {
        const client = clients[i]!;
        for (let offset = 0; offset < lane.length && performance.now() < deadline; offset++) {
          await applyOne(client, lane[offset]!, i, offset, options.lowThreshold ?? 10);
          applied++;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
  const seconds = (performance.now() - started) / 1000;
  return { connections, withoutTotalsTriggers, events: applied, seconds, eventsPerSecond: applied / seconds };
}
