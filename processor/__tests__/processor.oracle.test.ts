import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle, expectNotificationsMatch, outcomeCounts } from './assertions.js';
import { budget, committedCount, getEndpoint, metricValue, PROCESSOR_START_WAIT_MS, scrape, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { generateStream, produceStream } from './stream.js';

// A generated stream with known truth, through the mock cluster and the real processor, ends in
// exactly the oracle's state (ledger, stock, movements, status log, notifications); small batches
// so the stream spans many of them and its duplicates and twins land in other batches.

const COMMIT_WAIT_MS = 45_000;
const NOTIFY_WAIT_MS = 30_000;

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('oracle');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

describe('processor against the oracle', () => {
  it('ends in the oracle state for a stream of movements, losses, late arrivals, duplicates and twins across partitions', async () => {
    const topic = uniqueTopic('oracle');
    const groupId = 'oracle-group';
    const stream = generateStream({ movements: 1500, seed: 7 });
    expect(Math.min(stream.counts.duplicates - stream.counts.crossPartitionDuplicates, stream.counts.crossPartitionDuplicates, stream.counts.twins - stream.counts.crossPartitionTwins, stream.counts.crossPartitionTwins)).toBeGreaterThan(5);

    const produced = await produceStream(topic, stream);
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '200', BATCH_MAX_WAIT_MS: '50' });
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === stream.length,
      COMMIT_WAIT_MS,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${stream.length}\n${processor?.output().slice(-3000)}`,
    );
    const check = await expectDatabaseMatchesOracle(db.pool, produced);
    const outcomes = outcomeCounts(check);
    expect(Math.min(outcomes.applied ?? 0, outcomes.insufficient_stock ?? 0, outcomes.duplicate_movement_event ?? 0)).toBeGreaterThan(0);
    await expectNotificationsMatch(db.pool, `${topic}.notify`, check, NOTIFY_WAIT_MS);

    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
    const metrics = await scrape(processor);
    const ids = new Set(stream.map((m) => m.envelope.id)).size;
    expect(metricValue(metrics, 'wsm_processor_events_consumed_total')).toBe(stream.length);
    expect(metricValue(metrics, 'wsm_processor_events_redelivered_total')).toBe(stream.length - ids);
    expect(metricValue(metrics, 'wsm_processor_events_applied_total')).toBe(outcomes.applied);
    expect(metricValue(metrics, 'wsm_processor_status_changes_total')).toBe(check.oracle.statusChanges.length);
    expect(await processor.stop('SIGTERM')).toBe(0);
  }, budget([PROCESSOR_START_WAIT_MS, COMMIT_WAIT_MS, NOTIFY_WAIT_MS]));
});
