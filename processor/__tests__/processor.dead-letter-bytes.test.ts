import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { consumeFromStart, produce, uniqueTopic } from '../../lib/testing/kafka.js';
import { DLQ_HEADERS } from '../dead-letter-topic.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// A message key and headers are bytes: a key with a 0x00 byte (text cannot hold it) reaches the
// dead-letter table and topic byte for byte, and the valid events behind it are applied. Before
// keys were kept as bytes, the dead-letter insert failed (SQLSTATE 22021) and the partition
// stalled for good while /ready said 200.

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('dlbytes');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

describe('a dead letter with a binary key and headers', () => {
  it('is stored and republished byte for byte, and the events behind it are applied', async () => {
    const topic = uniqueTopic('dlbytes');
    const groupId = 'dlbytes-group';
    const key = Buffer.from([0x00, 0xff, 0x41, 0x00]);
    const headerValue = Buffer.from([0x00, 0x01, 0xfe]);
    const valid = [envelope({ quantity: 5 }), envelope({ quantity: 6 })];
    await produce(topic, [
      { value: encode(valid[0]), key: 'a', partition: 0 },
      { value: Buffer.from('not json'), key, partition: 0, headers: [{ trace: headerValue }] },
      { value: encode(valid[1]), key: 'b', partition: 0 },
    ]);
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '10', BATCH_MAX_WAIT_MS: '50' });
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === 3,
      40_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of 3\n${processor?.output().slice(-3000)}`,
    );

    const applied = await db.pool.query<{ message_id: string }>('SELECT message_id FROM events ORDER BY seq');
    expect(applied.rows.map((row) => row.message_id)).toEqual(valid.map((event) => event.id));

    const table = await db.pool.query<{ message_key: Buffer; headers: { key: string; value: string }[]; reason: string }>(
      'SELECT message_key, headers, reason FROM dead_letters',
    );
    expect(table.rows).toHaveLength(1);
    expect(table.rows[0]!.reason).toBe('malformed_json');
    expect(Buffer.compare(table.rows[0]!.message_key, key)).toBe(0);
    expect(table.rows[0]!.headers).toEqual([{ key: 'trace', value: headerValue.toString('base64') }]);

    const [republished] = await consumeFromStart(`${topic}.dlq`, 1);
    expect(Buffer.compare(republished!.key as Buffer, key)).toBe(0);
    const headers = republished!.headers ?? [];
    const trace = headers.find((header) => 'trace' in header)?.trace;
    expect(trace && Buffer.compare(Buffer.from(trace), headerValue)).toBe(0);
    expect(headers.find((header) => DLQ_HEADERS.reason in header)?.[DLQ_HEADERS.reason]?.toString()).toBe('malformed_json');

    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
  }, 120_000); // its waits: 40 + 20 s
});
