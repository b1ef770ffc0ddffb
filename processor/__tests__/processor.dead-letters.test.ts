import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { brokenMessages, encode, envelope } from '../../lib/testing/envelopes.js';
import { consumeFromStart, produce, uniqueTopic } from '../../lib/testing/kafka.js';
import { DLQ_HEADERS } from '../dead-letter-topic.js';
import { budget, committedCount, getEndpoint, PROCESSOR_START_WAIT_MS, startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// Every kind of invalid message lands in the dead-letter topic and table with the right reason,
// and the valid messages behind it in the same partition are still applied.

const COMMIT_WAIT_MS = 30_000;
const DLQ_READ_WAIT_MS = 20_000;

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('dlq');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

function header(headers: { [key: string]: string | Buffer }[] | undefined, name: string): string | undefined {
  const found = headers?.find((entry) => name in entry)?.[name];
  return found === undefined ? undefined : found.toString();
}

describe('invalid messages', () => {
  it('go to the dead-letter topic and table with their reason, and never block their partition', async () => {
    const topic = uniqueTopic('dlq');
    const groupId = 'dlq-group';
    const warehouse = '11111111-1111-4111-8111-111111111111';
    const broken = brokenMessages();
    const valid = [envelope({ warehouse_id: warehouse, quantity: 5 }), envelope({ warehouse_id: warehouse, quantity: 6 })];
    // All on one key, so one partition: broken messages sit between and before valid ones.
    const messages = [
      { value: encode(valid[0]), key: warehouse },
      ...broken.map((message) => ({ value: message.payload, key: warehouse })),
      { value: encode(valid[1]), key: warehouse },
    ];
    await produce(topic, messages);
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '5', BATCH_MAX_WAIT_MS: '50' });
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === messages.length,
      COMMIT_WAIT_MS,
      () => `not all committed\n${processor?.output().slice(-3000)}`,
    );

    const applied = await db.pool.query<{ message_id: string; outcome: string }>('SELECT message_id, outcome FROM events ORDER BY seq');
    expect(applied.rows).toEqual(valid.map((event) => ({ message_id: event.id, outcome: 'applied' })));

    const table = await db.pool.query<{ offset: string; reason: string; payload: Buffer; payload_bytes: number }>(
      'SELECT "offset", reason, payload, payload_bytes FROM dead_letters ORDER BY "offset"',
    );
    expect(table.rows.map((row) => row.reason)).toEqual(broken.map((message) => message.reason));
    table.rows.forEach((row, index) => {
      const original = broken[index]!.payload;
      expect(row.payload_bytes).toBe(original.length);
      expect(Buffer.compare(row.payload, original.subarray(0, 4096))).toBe(0);
    }, 120_000); // its waits: 30 + 20 s

    const topicMessages = await consumeFromStart(`${topic}.dlq`, broken.length, DLQ_READ_WAIT_MS);
    expect(topicMessages.map((message) => header(message.headers, DLQ_HEADERS.reason)).sort()).toEqual(broken.map((message) => message.reason).sort());
    for (const message of topicMessages) {
      expect(header(message.headers, DLQ_HEADERS.topic)).toBe(topic);
      expect(message.key?.toString()).toBe(warehouse);
    }

    const metrics = await getEndpoint(processor.port, '/metrics');
    expect(metrics.body).toMatch(/wsm_processor_dead_letters_total\{reason="malformed_json",service="processor"\} 3/);
  }, budget([PROCESSOR_START_WAIT_MS, COMMIT_WAIT_MS, DLQ_READ_WAIT_MS]));
});
