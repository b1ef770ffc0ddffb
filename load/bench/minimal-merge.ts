import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { MovementEvent } from '../../lib/event.js';
import { stagingRows } from './copy-ceiling.js';

/**
 * The minimal merge: what the design notes' prototype did (../shared/design.md section 5), on
 * this server in this run. Each batch is COPYed into a temporary staging table and applied with
 * one statement to a ledger that has only its random-UUID primary key plus a per-key stock upsert;
 * durable, one transaction per batch. No movements, no status log, no insufficient-stock rule, no
 * ledger indexes for the API, no offsets: it shows what the product's semantics cost on top.
 */

export interface MinimalMergeResult {
  rows: number;
  batchRows: number;
  seconds: number;
  rowsPerSecond: number;
}

const SCHEMA = `
  DROP TABLE IF EXISTS bench_minimal_ledger, bench_minimal_stock;
  CREATE TABLE bench_minimal_ledger (LIKE staging_events, CONSTRAINT bench_minimal_ledger_pkey PRIMARY KEY (message_id));
  CREATE TABLE bench_minimal_stock (warehouse_id uuid, product_id uuid, quantity bigint NOT NULL, PRIMARY KEY (warehouse_id, product_id));
  CREATE TEMP TABLE bench_minimal_staging (LIKE staging_events) ON COMMIT DELETE ROWS;`;

const MERGE = `
  WITH fresh AS (
    INSERT INTO bench_minimal_ledger SELECT * FROM pg_temp.bench_minimal_staging ORDER BY message_id
    ON CONFLICT (message_id) DO NOTHING
    RETURNING warehouse_id, product_id, CASE event WHEN 'arrival' THEN quantity ELSE -quantity END AS delta)
  INSERT INTO bench_minimal_stock SELECT warehouse_id, product_id, sum(delta) FROM fresh GROUP BY 1, 2
  ON CONFLICT (warehouse_id, product_id) DO UPDATE SET quantity = bench_minimal_stock.quantity + EXCLUDED.quantity`;

/** Applies `events` in batches of `batchRows` and reports the sustained rate. */
export async function runMinimalMerge(databaseUrl: string, events: readonly MovementEvent[], batchRows: number): Promise<MinimalMergeResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-minimal-merge' });
  await client.connect();
  try {
    await client.query(SCHEMA);
    // Rendered before the clock starts, as for the COPY ceiling.
    const batches: string[][] = [];
    for (let start = 0; start < events.length; start += batchRows) batches.push([...stagingRows(events.slice(start, start + batchRows))]);
    const started = performance.now();
    for (const chunks of batches) {
      await client.query('BEGIN');
      await pipeline(Readable.from(chunks), client.query(copyFrom('COPY pg_temp.bench_minimal_staging FROM STDIN')));
      await client.query(MERGE);
      await client.query('COMMIT');
    }
    const seconds = (performance.now() - started) / 1000;
    await client.query('DROP TABLE bench_minimal_ledger, bench_minimal_stock');
    return { rows: events.length, batchRows, seconds, rowsPerSecond: events.length / seconds };
  } finally {
    await client.end();
  }
}
