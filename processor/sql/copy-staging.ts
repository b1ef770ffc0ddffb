import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventRecord } from '../batch.js';
import { isoInstant } from '../iso-instant.js';

/**
 * COPY of a batch's events into this connection's pg_temp.batch_staging, in PostgreSQL's text
 * format. No value needs escaping: ids are validated UUIDs, `source` matches WH-\d+, topic names
 * are [a-zA-Z0-9._-], and the rest are numbers, enum labels and ISO timestamps
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2).
 */

const COLUMNS =
  'seq, message_id, movement_id, warehouse_id, product_id, event, quantity, event_time, produced_at, source, topic, "partition", "offset"';

// Rows per chunk written to the COPY stream: ~250 bytes a row makes 256 KiB chunks, large enough to
// amortise stream overhead, small enough that back-pressure works.
const ROWS_PER_CHUNK = 1000;

/** One staging row in COPY text format, newline included (seq = position in the batch's events). */
export function stagingRow(seq: number, record: EventRecord): string {
  const e = record.event;
  return (
    `${seq}\t${e.messageId}\t${e.movementId}\t${e.warehouseId}\t${e.productId}\t${e.event}\t${e.quantity}\t` +
    `${isoInstant(e.eventTimeMs)}\t${isoInstant(e.producedAtMs)}\t${e.source}\t${record.topic}\t${record.partition}\t${record.offset}\n`
  );
}

/**
 * The rows in chunks of {@link ROWS_PER_CHUNK}, as bytes: every value is ASCII (see above), so
 * latin1 encodes it byte for byte without UTF-8's scan.
 */
export function* stagingChunks(events: readonly EventRecord[]): Generator<Buffer> {
  let chunk = '';
  for (let seq = 0; seq < events.length; seq++) {
    chunk += stagingRow(seq, events[seq]!);
    if ((seq + 1) % ROWS_PER_CHUNK === 0) {
      yield Buffer.from(chunk, 'latin1');
      chunk = '';
    }
  }
  if (chunk) yield Buffer.from(chunk, 'latin1');
}

/** COPYs `events` (seq = position in the array) into pg_temp.batch_staging; resolves when the rows are in. */
export async function copyToStaging(client: pg.ClientBase, events: readonly EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  const sink = client.query(copyFrom(`COPY pg_temp.batch_staging (${COLUMNS}) FROM STDIN`));
  await pipeline(Readable.from(stagingChunks(events)), sink);
}
