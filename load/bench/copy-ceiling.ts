import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { MovementEvent } from '../../lib/event.js';

/**
 * The raw COPY ceiling: the same event rows COPYed into an UNLOGGED table with no index, no
 * constraint and no merge, so nothing but parsing and heap writes cost. No ingest path that lands
 * rows in PostgreSQL through COPY can beat it on the same server.
 */

export interface CopyCeilingResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Best of `repeats`, since the first run also pays for extending the table's files. */
  repeats: number;
}

const TABLE = 'bench_copy_ceiling';

export function* stagingRows(events: readonly MovementEvent[]): Generator<string> {
  let chunk = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    chunk +=
      `${i}\t${e.messageId}\t${e.movementId}\t${e.warehouseId}\t${e.productId}\t${e.event}\t${e.quantity}\t` +
      `${new Date(e.eventTimeMs).toISOString()}\t${new Date(e.producedAtMs).toISOString()}\t${e.source}\tbench\t0\t${i}\n`;
    if ((i + 1) % 1000 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export async function runCopyCeiling(databaseUrl: string, events: readonly MovementEvent[], repeats = 3): Promise<CopyCeilingResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-copy-ceiling' });
  await client.connect();
  let best = Infinity;
  try {
    await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    // The staging table's columns without its primary key: LIKE copies no index or constraint.
    await client.query(`CREATE UNLOGGED TABLE ${TABLE} (LIKE staging_events)`);
    // Rendered before the clock starts: the ceiling is the server's, not this process's formatting.
    const chunks = [...stagingRows(events)];
    for (let r = 0; r < repeats; r++) {
      await client.query(`TRUNCATE ${TABLE}`);
      const started = performance.now();
      await pipeline(Readable.from(chunks), client.query(copyFrom(`COPY ${TABLE} FROM STDIN`)));
      best = Math.min(best, (performance.now() - started) / 1000);
    }
    await client.query(`DROP TABLE ${TABLE}`);
  } finally {
    await client.end();
  }
  return { rows: events.length, seconds: best, rowsPerSecond: events.length / best, repeats };
}
