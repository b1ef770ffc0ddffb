import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { Oracle } from './oracle.js';
import { generateStream, produceKeyed } from './stream.js';

// SIGTERM with records read but not yet flushed: the processor stops fetching, flushes what it
// holds (flush reason "shutdown"), commits, leaves the group and exits 0.

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('shutdown');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

describe('graceful shutdown', () => {
  it('flushes and commits the records it holds, then exits 0', async () => {
    const topic = uniqueTopic('shutdown');
    const groupId = 'shutdown-group';
    const stream = generateStream({ movements: 200, seed: 3 });
    const oracle = Oracle.of(stream);
    await produceKeyed(topic, stream);
    // Neither limit is reached: without the shutdown flush nothing would ever be written.
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100000', BATCH_MAX_WAIT_MS: '600000' });
    const consumed = new RegExp(`wsm_processor_events_consumed_total\\{service="processor"\\} ${stream.length}\\b`);
    await waitFor(async () => consumed.test((await getEndpoint(processor!.port, '/metrics').catch(() => ({ body: '' }))).body), 30_000, () => processor!.output().slice(-2000));
    expect(await committedCount(db.pool, groupId, topic)).toBe(0);

    expect(await processor.stop('SIGTERM')).toBe(0);
    expect(await committedCount(db.pool, groupId, topic)).toBe(stream.length);
    await expectDatabaseMatchesOracle(db.pool, oracle);
  }, 120_000); // its waits: 30 s and the shutdown (30 s at most)
});
