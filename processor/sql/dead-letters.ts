import type pg from 'pg';
import type { KafkaHeaders } from '../../lib/kafka/client.js';
import type { DeadLetterRecord } from '../batch.js';
import { DEAD_LETTER_PAYLOAD_BYTES } from '../decode.js';

/**
 * Records a batch's dead letters in one statement. A redelivered invalid message hits the unique
 * (topic, partition, offset) and is recorded once. Called after apply_batch, which holds the merge
 * lock until commit: dead-letter ids then grow in commit order, like status change ids, so keyset
 * paging over them never skips a row committed later with a smaller id.
 */
export async function insertDeadLetters(client: pg.ClientBase, records: readonly DeadLetterRecord[]): Promise<void> {
  if (records.length === 0) return;
  await client.query(
    `INSERT INTO dead_letters (topic, "partition", "offset", message_key, headers, payload, payload_bytes, reason, detail)
     SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bytea[], $5::jsonb[], $6::bytea[], $7::int[], $8::text[], $9::text[])
     ON CONFLICT (topic, "partition", "offset") DO NOTHING`,
    [
      records.map((r) => r.topic),
      records.map((r) => r.partition),
      records.map((r) => r.offset),
      records.map((r) => r.key),
      records.map((r) => headersJson(r.headers)),
      records.map((r) => r.payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES)),
      records.map((r) => r.payloadBytes),
      records.map((r) => r.reason),
      // PostgreSQL text cannot hold NUL; details quote input, so strip it.
      records.map((r) => r.detail.replaceAll('\u0000', '')),
    ],
  );
}

/**
 * Headers as the `dead_letters.headers` column holds them (see its migration): values base64,
 * keys as text without U+0000, which jsonb refuses.
 */
export function headersJson(headers: KafkaHeaders | undefined): string | null {
  if (!headers || headers.length === 0) return null;
  const entries = headers.flatMap((header) =>
    Object.entries(header).map(([key, value]) => ({ key: key.replaceAll('\u0000', '\ufffd'), value: Buffer.from(value).toString('base64') })),
  );
  return JSON.stringify(entries);
}
