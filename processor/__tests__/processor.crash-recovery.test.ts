import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { kafkaCommittedOffsets, uniqueTopic } from '../../lib/testing/kafka.js';
import { CRASH_POINTS, type CrashPoint } from '../writer.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { budget, committedCount, LOG, metricValue, PROCESSOR_START_WAIT_MS, scrape, startProcessor, storedOffsets, waitFor, type RunningProcessor } from './helpers.js';
import { generateStream, PARTITIONS, produceStream, seededRandom } from './stream.js';

// SIGKILL between COPY, merge, commit and the Kafka offset commit, then a restart: nothing lost,
// nothing applied twice. The kill comes from inside the writer at an exact point
// (PROCESSOR_CRASH_AT), and from outside after seeded random delays.
//
// Batches flush only by size here (BATCH_MAX_WAIT_MS out of reach), so the n-th batch write holds
// exactly the records n*BATCH-BATCH .. n*BATCH-1 in read order, and what each crash point leaves
// committed is known exactly.

const BATCH = 100;
const CRASH_ON_BATCH = 3;
/** Starting a processor (PROCESSOR_START_WAIT_MS) and waiting for its assignment or first commit. */
const START_WAIT_MS = PROCESSOR_START_WAIT_MS;
const CRASH_WAIT_MS = 40_000;
const FINISH_WAIT_MS = 40_000;
/** How long the killed instance's database sessions may take to end (each finishes what it received, then exits). */
const SESSIONS_GONE_WAIT_MS = 15_000;
const ALL_PARTITIONS = [...Array(PARTITIONS).keys()];

const running: RunningProcessor[] = [];
const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

async function scenario(seed: number, movements: number, cut: (length: number) => number = (length) => length) {
  const db = await createTestDatabase('crash');
  databases.push(db);
  const topic = uniqueTopic('crash');
  const groupId = `crash-group-${seed}`;
  const stream = generateStream({ movements, seed });
  const produced = await produceStream(topic, stream.slice(0, cut(stream.length)));
  const env = { DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: String(BATCH), BATCH_MAX_WAIT_MS: '600000' };
  const start = async (extra: Record<string, string> = {}): Promise<RunningProcessor> => {
    const processor = await startProcessor({ ...env, ...extra });
    running.push(processor);
    return processor;
  };
  const committed = (): Promise<number> => committedCount(db.pool, groupId, topic);
  /** A new instance resumes exactly at the stored offsets and commits the rest; the database matches the oracle. */
  const finish = async (): Promise<void> => {
    // A COMMIT the killed instance sent just before its SIGKILL still completes in its backend,
    // which only then reads the closed socket and exits: read the stored offsets once no session
    // of the processor's role is left (seen: the restart started at 481 where 444 had been read).
    const sessions = async (): Promise<number> =>
      (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND usename = 'wsm_processor'")).rows[0]!.n;
    await waitFor(async () => (await sessions()) === 0, SESSIONS_GONE_WAIT_MS, async () => `${await sessions()} sessions of the killed processor still open`);
    const stored = await storedOffsets(db.pool, groupId, topic);
    const processor = await start({ BATCH_MAX_WAIT_MS: '50' });
    const assigned = await processor.waitForLog(LOG.assigned, 'its assignment', START_WAIT_MS);
    expect(assigned.storedOffsets, 'where the restarted instance starts').toEqual(Object.fromEntries([...stored].map(([p, o]) => [String(p), o])));
    await waitFor(async () => (await committed()) === produced.length, FINISH_WAIT_MS, async () => `committed ${await committed()} of ${produced.length}\n${processor.output().slice(-3000)}`);
    expect(processor.output()).not.toContain('dropped a message already read');
    await expectDatabaseMatchesOracle(db.pool, produced);
  };
  return { db, produced, start, finish, committed, groupId, topic };
}

/** How far the ledger's position sequence is ahead of the rows committed: a merge that ran and rolled back reserved a block. */
async function reservedBeyondLedger(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ reserved: string }>(
    `SELECT pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass) - (SELECT coalesce(max(seq), 0) FROM events) AS reserved`,
  );
  return Number(rows[0]!.reserved);
}

/**
 * What each crash point leaves: the batches committed in the database, and whether the killed
 * batch's merge ran and was rolled back (its reservation of ledger positions outlives the rollback).
 */
const EXPECTED: Record<CrashPoint, { databaseBatches: number; mergeRolledBack: boolean }> = {
  'after-copy': { databaseBatches: CRASH_ON_BATCH - 1, mergeRolledBack: false },
  'after-merge': { databaseBatches: CRASH_ON_BATCH - 1, mergeRolledBack: true },
  'after-commit': { databaseBatches: CRASH_ON_BATCH, mergeRolledBack: false },
};

describe('crash recovery', () => {
  it.each(CRASH_POINTS)(
    'recovers from a SIGKILL %s, having committed exactly what that point implies',
    async (point) => {
      const { db, start, finish, committed, groupId, topic } = await scenario(11, 400);
      const doomed = await start({ PROCESSOR_CRASH_AT: point, PROCESSOR_CRASH_ON_BATCH: String(CRASH_ON_BATCH) });
      await Promise.race([doomed.exited, sleep(CRASH_WAIT_MS).then(() => Promise.reject(new Error(`no crash within ${CRASH_WAIT_MS} ms\n${doomed.output()}`)))]);
      expect(doomed.child.signalCode).toBe('SIGKILL');
      expect(doomed.output()).toContain(`fault injection: SIGKILL ${point} of batch write ${CRASH_ON_BATCH}`);

      const { databaseBatches, mergeRolledBack } = EXPECTED[point];
      expect(await committed(), 'records committed in the database').toBe(databaseBatches * BATCH);
      const reserved = await reservedBeyondLedger(db);
      if (mergeRolledBack) expect(reserved, 'ledger positions reserved past the committed rows').toBeGreaterThanOrEqual(BATCH);
      else expect(reserved, 'ledger positions reserved past the committed rows').toBeLessThan(BATCH);
      // Kafka offsets follow the database's, never lead them: the killed batch's Kafka commit never ran.
      const kafka = [...(await kafkaCommittedOffsets(groupId, topic, ALL_PARTITIONS)).values()].reduce((a, b) => a + b, 0);
      expect(kafka, 'records committed in Kafka').toBeLessThanOrEqual((CRASH_ON_BATCH - 1) * BATCH);
      await finish();
    },
    budget([START_WAIT_MS, CRASH_WAIT_MS, START_WAIT_MS, START_WAIT_MS, SESSIONS_GONE_WAIT_MS, FINISH_WAIT_MS]),
  );

  const KILLS = 3;
  const MAX_DELAY_MS = 800;
  const KILL_BATCH = 37;
  it(
    'recovers from SIGKILLs from outside after seeded random delays, each one mid-stream',
    async () => {
      // Size-only flushes of KILL_BATCH records never commit a stream whose length is not a
      // multiple of it: every kill finds the stream unfinished, however fast the machine is.
      const { start, finish, committed, produced } = await scenario(12, 1200, (length) => (length % KILL_BATCH === 0 ? length - 1 : length));
      const random = seededRandom(1234);
      for (let kill = 0; kill < KILLS; kill++) {
        const processor = await start({ BATCH_MAX_RECORDS: String(KILL_BATCH) });
        await processor.waitForLog(LOG.assigned, 'its assignment', START_WAIT_MS);
        // It is reading (what is left may be less than a batch, so a commit is not a condition).
        const reading = async (): Promise<boolean> => (metricValue(await scrape(processor), 'wsm_processor_events_consumed_total') ?? 0) > 0;
        await waitFor(reading, START_WAIT_MS, () => `nothing read\n${processor.output().slice(-2000)}`);
        const delay = Math.floor(random() * MAX_DELAY_MS);
        await sleep(delay);
        const atKill = await committed();
        expect(atKill, `kill ${kill + 1} after ${delay} ms`).toBeLessThan(produced.length);
        await processor.stop('SIGKILL');
        console.log(`kill ${kill + 1}: ${delay} ms after the first read, ${atKill} of ${produced.length} committed`);
      }
      await finish();
    },
    budget([KILLS * (3 * START_WAIT_MS + MAX_DELAY_MS), START_WAIT_MS, START_WAIT_MS, SESSIONS_GONE_WAIT_MS, FINISH_WAIT_MS]),
  );
});
