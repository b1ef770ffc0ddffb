import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { consumeFromStart, produce, uniqueTopic } from '../../lib/testing/kafka.js';
import { DLQ_HEADERS, PRODUCER_MAX_MESSAGE_BYTES } from '../dead-letter-topic.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// A message just under the producer's message.max.bytes is legal on the source topic, but with
// the dlq-* headers added it no longer fits: librdkafka refuses it (MSG_SIZE_TOO_LARGE, thrown
// synchronously). It goes to the dead-letter topic cut to 4 KiB, saying so and where the original
// is, and the events behind it are applied. Before, the publish was retried for ever.

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('dlsize');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

function header(headers: { [key: string]: string | Buffer }[] | undefined, name: string): string | undefined {
  return headers?.find((entry) => name in entry)?.[name]?.toString();
}

describe('a dead letter too large for the dead-letter topic', () => {
  it('is published cut, with its original size and position, and the events behind it are applied', async () => {
    const topic = uniqueTopic('dlsize');
    const groupId = 'dlsize-group';
    // 50 bytes under the limit: the test producer (no headers) gets it through, with the dlq-* headers it cannot.
    const huge = Buffer.alloc(PRODUCER_MAX_MESSAGE_BYTES - 50, 'x');
    const small = Buffer.from('also not json');
    const valid = envelope({ quantity: 5 });
    await produce(topic, [
      { value: huge, key: 'k', partition: 1 },
      { value: small, key: 'k', partition: 1 },
      { value: encode(valid), key: 'k', partition: 1 },
    ]);
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '10', BATCH_MAX_WAIT_MS: '50' });
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === 3,
      40_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of 3\n${processor?.output().slice(-3000)}`,
    );
    const applied = await db.pool.query<{ message_id: string }>('SELECT message_id FROM events');
    expect(applied.rows).toEqual([{ message_id: valid.id }]);

    const published = await consumeFromStart(`${topic}.dlq`, 2);
    const cut = published.find((message) => header(message.headers, DLQ_HEADERS.offset) === '0');
    expect(cut?.value).toHaveLength(4096);
    expect(header(cut?.headers, DLQ_HEADERS.truncated)).toBe('payload');
    expect(header(cut?.headers, DLQ_HEADERS.originalBytes)).toBe(String(huge.length));
    expect(header(cut?.headers, DLQ_HEADERS.partition)).toBe('1');
    expect(header(cut?.headers, DLQ_HEADERS.reason)).toBe('oversized_message');
    const whole = published.find((message) => header(message.headers, DLQ_HEADERS.offset) === '1');
    expect(whole?.value?.toString()).toBe(small.toString());
    expect(header(whole?.headers, DLQ_HEADERS.truncated)).toBeUndefined();
    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
  }, 120_000); // its waits: 40 + 20 s
});
