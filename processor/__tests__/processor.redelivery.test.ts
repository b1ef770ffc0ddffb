import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { kafkaCommittedOffsets, uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { budget, committedCount, LOG, metricValue, PROCESSOR_START_WAIT_MS, scrape, startProcessor, storedOffsets, waitFor, type RunningProcessor } from './helpers.js';
import { generateStream, PARTITIONS, produceStream } from './stream.js';

// A real Kafka redelivery: the same offsets fetched twice. The processor is killed right after
// its last batch committed in the database and before it committed the Kafka offsets, so the
// database is one batch ahead of Kafka. A consumer that resumes from Kafka's committed offsets
// (an operator resetting the stored offsets to them, as this test does) fetches that batch again:
// every record in it is already in the ledger, and nothing may change.

const BATCH = 100;
const BATCHES = 4;
const CRASH_WAIT_MS = 40_000;
const START_WAIT_MS = 30_000;
const REDELIVERY_WAIT_MS = 40_000;

let db: TestDatabase;
const running: RunningProcessor[] = [];
beforeAll(async () => {
  db = await createTestDatabase('redelivery');
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await db?.drop();
});

/** Every table the merge writes, as text, for an exact before/after comparison. */
async function snapshot(pool: pg.Pool): Promise<string> {
  const tables = {
    events: 'SELECT * FROM events ORDER BY seq',
    stock: 'SELECT * FROM stock ORDER BY warehouse_id, product_id',
    movements: 'SELECT * FROM movements ORDER BY movement_id',
    status_changes: 'SELECT * FROM status_changes ORDER BY id',
    status_change_counter: 'SELECT * FROM status_change_counter',
    ledger_totals: 'SELECT * FROM ledger_totals ORDER BY name',
    dead_letters: 'SELECT * FROM dead_letters ORDER BY id',
  };
  const result: Record<string, unknown> = {};
  for (const [name, sql] of Object.entries(tables)) result[name] = (await pool.query(sql)).rows;
  return JSON.stringify(result);
}

describe('a Kafka redelivery', () => {
  it(
    'of offsets committed in the database but not in Kafka changes nothing',
    async () => {
      const topic = uniqueTopic('redelivery');
      const groupId = 'redelivery-group';
      // Exactly BATCHES full batches, so the last one is the one killed after its commit.
      const stream = generateStream({ movements: 400, seed: 19 }).slice(0, BATCH * BATCHES);
      const produced = await produceStream(topic, stream);
      const env = { DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: String(BATCH), BATCH_MAX_WAIT_MS: '600000' };

      const first = await startProcessor({ ...env, PROCESSOR_CRASH_AT: 'after-commit', PROCESSOR_CRASH_ON_BATCH: String(BATCHES) });
      running.push(first);
      await Promise.race([first.exited, sleep(CRASH_WAIT_MS).then(() => Promise.reject(new Error(`no crash\n${first.output()}`)))]);
      expect(first.child.signalCode).toBe('SIGKILL');
      expect(await committedCount(db.pool, groupId, topic)).toBe(stream.length);
      const kafka = await kafkaCommittedOffsets(groupId, topic, [...Array(PARTITIONS).keys()]);
      const database = await storedOffsets(db.pool, groupId, topic);
      const behind = [...database].reduce((sum, [partition, offset]) => sum + offset - (kafka.get(partition) ?? 0), 0);
      expect(behind, 'records committed in the database but not in Kafka').toBeGreaterThanOrEqual(BATCH);
      await expectDatabaseMatchesOracle(db.pool, produced);
      const before = await snapshot(db.pool);

      // Resume where Kafka says: the database's offsets rewound to Kafka's committed ones.
      for (const partition of database.keys()) {
        await db.pool.query('UPDATE consumer_offsets SET next_offset = $1 WHERE group_id = $2 AND topic = $3 AND "partition" = $4', [
          kafka.get(partition) ?? 0, groupId, topic, partition,
        ]);
      }
      const second = await startProcessor({ ...env, BATCH_MAX_WAIT_MS: '50' });
      running.push(second);
      const assigned = await second.waitForLog(LOG.assigned, 'its assignment', START_WAIT_MS);
      expect(assigned.storedOffsets).toEqual(Object.fromEntries([...database.keys()].map((p) => [String(p), kafka.get(p) ?? 0])));
      await waitFor(async () => (await committedCount(db.pool, groupId, topic)) === stream.length, REDELIVERY_WAIT_MS, () => second.output().slice(-2000));

      // Every refetched record was recognised as already applied, and nothing changed.
      const metrics = await scrape(second);
      expect(metricValue(metrics, 'wsm_processor_events_consumed_total')).toBe(behind);
      expect(metricValue(metrics, 'wsm_processor_events_redelivered_total')).toBe(behind);
      expect(metricValue(metrics, 'wsm_processor_events_applied_total')).toBe(0);
      expect(metricValue(metrics, 'wsm_processor_status_changes_total')).toBe(0);
      expect(await snapshot(db.pool)).toBe(before);
      await expectDatabaseMatchesOracle(db.pool, produced);
    },
    budget([2 * PROCESSOR_START_WAIT_MS, CRASH_WAIT_MS, START_WAIT_MS, REDELIVERY_WAIT_MS]),
  );
});
