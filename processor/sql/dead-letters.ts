import type pg from 'pg';
import type { DeadLetterRecord } from '../batch.js';
import { DEAD_LETTER_PAYLOAD_BYTES } from '../decode.js';

/**
 * Records a batch's dead letters in one statement. A redelivered invalid message hits the unique
 * (topic, partition, offset) and is recorded once.
 */
export async function insertDeadLetters(client: pg.ClientBase, records: readonly DeadLetterRecord[]): Promise<void> {
  if (records.length === 0) return;
  await client.query(
    `INSERT INTO dead_letters (topic, "partition", "offset", message_key, payload, payload_bytes, reason, detail)
     SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bytea[], $6::int[], $7::text[], $8::text[])
     ON CONFLICT (topic, "partition", "offset") DO NOTHING`,
    [
      records.map((r) => r.topic),
      records.map((r) => r.partition),
      records.map((r) => r.offset),
      records.map((r) => r.key),
      records.map((r) => r.payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES)),
      records.map((r) => r.payloadBytes),
      records.map((r) => r.reason),
      // PostgreSQL text cannot hold NUL; details quote input, so strip it.
      records.map((r) => r.detail.replaceAll('\u0000', '')),
    ],
  );
}
