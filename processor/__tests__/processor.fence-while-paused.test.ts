import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { produce, uniqueTopic } from '../../lib/testing/kafka.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// A batch fenced while consumption is paused (the database was slow, the batcher full): the
// processor restarts its partitions from the stored offsets and reads on. librdkafka keeps an
// application pause across unassign and assign, so before the consumer resumed on every assign
// the restarted partitions stayed paused for good (seen once in the outage test, when a commit's
// answer was lost and the retry was fenced).

let db: TestDatabase;
let processor: RunningProcessor | undefined;
let holder: pg.Client | undefined;
beforeAll(async () => {
  db = await createTestDatabase('fencepause');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await holder?.end().catch(() => undefined);
  await db?.drop();
});

describe('a fence while paused', () => {
  it('restarts from the stored offsets and keeps reading', async () => {
    const topic = uniqueTopic('fencepause');
    const groupId = 'fencepause-group';
    const total = 400;
    await produce(topic, Array.from({ length: total }, () => ({ value: encode(envelope({ quantity: 1 })), key: 'k', partition: 0 })));

    // Hold the merge lock, so the first flush waits inside apply_batch and the batcher fills.
    holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query("SELECT pg_advisory_lock(hashtext('warehouse-stock-monitor.apply_batch'))");
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '50', BATCH_MAX_WAIT_MS: '20' });
    await waitFor(
      async () => /wsm_processor_paused\{service="processor"\} 1/.test((await getEndpoint(processor!.port, '/metrics').catch(() => ({ body: '' }))).body),
      30_000,
      () => `never paused\n${processor?.output().slice(-2000)}`,
    );
    // A newer owner has moved the partition past the waiting batch's first offset.
    await holder.query('INSERT INTO consumer_offsets (group_id, topic, "partition", next_offset) VALUES ($1, $2, 0, 10)', [groupId, topic]);
    await holder.query("SELECT pg_advisory_unlock(hashtext('warehouse-stock-monitor.apply_batch'))");

    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === total,
      40_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${total}\n${processor?.output().slice(-3000)}`,
    );
    expect(processor.output()).toContain('restarted partitions from stored offsets');
    const { rows } = await db.pool.query<{ count: string }>('SELECT count(*) FROM events');
    expect(Number(rows[0]!.count)).toBe(total - 10);
  }, 180_000); // its waits: 30 + 40 s
});
