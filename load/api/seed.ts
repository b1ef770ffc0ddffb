import pg from 'pg';
import type { Envelope } from '../../lib/event.js';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { planMessages } from '../generator/plan.js';
import type { Progress } from '../lib/progress.js';

/**
 * Realistic read data for the API benchmark, written through the processor's own write path
 * (COPY into staging + apply_batch, via lib/testing/apply.ts), from the load generator's stream.
 */
export async function seedThroughProcessor(databaseUrl: string, events: number, progress: Progress): Promise<void> {
  const chunk: Envelope[] = [];
  let done = 0;
  const flush = async (): Promise<void> => {
    await applyEnvelopes(databaseUrl, chunk, { topic: 'load.seed', groupId: 'load-seed' });
    done += chunk.length;
    chunk.length = 0;
    progress.update(done);
  };
  for (const message of planMessages({ seed: 'make-load', warehouses: 100, products: 2000, initialSupplies: Math.min(20_000, Math.floor(events / 3)), invalidShare: 0 })) {
    if (done + chunk.length >= events) break;
    // Producer duplicates are a Kafka concern; the seed wants each event once.
    if (message.kind === 'duplicate' || !message.envelope) continue;
    chunk.push(message.envelope);
    if (chunk.length === 10_000) await flush();
  }
  if (chunk.length > 0) await flush();
  progress.finish(done);
}

export interface SampleIds {
  stock: { warehouseId: string; productId: string }[];
  movements: string[];
  warehouses: string[];
}

/**
 * Ids that exist, sampled at random from the database (a sort by random(): a full read of each
 * table, a few seconds for millions of rows, once per run).
 */
export async function sampleIds(databaseUrl: string, size = 20_000): Promise<SampleIds> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'load-sample' });
  await client.connect();
  try {
    const stock = await client.query<{ warehouse_id: string; product_id: string }>('SELECT warehouse_id, product_id FROM stock ORDER BY random() LIMIT $1', [size]);
    const movements = await client.query<{ movement_id: string }>('SELECT movement_id FROM movements ORDER BY random() LIMIT $1', [size]);
    const warehouses = await client.query<{ warehouse_id: string }>('SELECT DISTINCT warehouse_id FROM stock');
    return {
      stock: stock.rows.map((r) => ({ warehouseId: r.warehouse_id, productId: r.product_id })),
      movements: movements.rows.map((r) => r.movement_id),
      warehouses: warehouses.rows.map((r) => r.warehouse_id),
    };
  } finally {
    await client.end();
  }
}

/** Stock rows in the database at `databaseUrl`, or undefined when it cannot be reached or has no schema. */
export async function countStockRows(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const result = await client.query<{ n: string }>('SELECT count(*) AS n FROM stock');
    return Number(result.rows[0]?.n ?? 0);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
