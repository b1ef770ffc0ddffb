import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { CRASH_POINTS } from '../writer.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { committedCount, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { Oracle } from './oracle.js';
import { generateStream, produceKeyed } from './stream.js';

// SIGKILL between COPY, merge, commit and the Kafka offset commit, then a restart: nothing lost,
// nothing applied twice. The kill comes from inside the writer at an exact point
// (PROCESSOR_CRASH_AT), and from outside at whatever point the processor happens to be.

const running: RunningProcessor[] = [];
const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

async function scenario(seed: number) {
  const db = await createTestDatabase('crash');
  databases.push(db);
  const topic = uniqueTopic('crash');
  const groupId = `crash-group-${seed}-${Math.random().toString(36).slice(2, 8)}`;
  const stream = generateStream({ movements: 400, seed });
  const oracle = Oracle.of(stream);
  await produceKeyed(topic, stream);
  const env = { DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '30' };
  const start = async (extra: Record<string, string> = {}): Promise<RunningProcessor> => {
    const processor = await startProcessor({ ...env, ...extra });
    running.push(processor);
    return processor;
  };
  const finish = async (): Promise<void> => {
    const processor = await start();
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === stream.length,
      40_000,
      async () => {
        const committed = await committedCount(db.pool, groupId, topic);
        writeFileSync(`/tmp/crash-${topic}.log`, processor.output());
        return `committed ${committed} of ${stream.length} (processor output in /tmp/crash-${topic}.log)`;
      },
    );
    expect(processor.output()).not.toContain('dropped a message already read');
    await expectDatabaseMatchesOracle(db.pool, oracle);
  };
  return { db, start, finish, groupId, topic, total: stream.length };
}

describe('crash recovery', () => {
  it.each(CRASH_POINTS)('recovers from a SIGKILL %s', async (point) => {
    const { start, finish, db, groupId, topic } = await scenario(11);
    const doomed = await start({ PROCESSOR_CRASH_AT: point, PROCESSOR_CRASH_ON_BATCH: '3' });
    await waitFor(() => Promise.resolve(doomed.child.exitCode !== null || doomed.child.signalCode !== null), 60_000, () => `never crashed\n${doomed.output().slice(-2000)}`);
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(doomed.output()).toContain('fault injection');
    const before = await committedCount(db.pool, groupId, topic);
    // Two batches committed before the third write; after-commit also committed the third.
    expect(before).toBeGreaterThan(0);
    await finish();
  }, 180_000); // its waits: the crash (60 s at most) and 40 s

  it('recovers from SIGKILLs from outside at arbitrary moments', async () => {
    const { start, finish, db, groupId, topic, total } = await scenario(12);
    for (let kill = 0; kill < 3; kill++) {
      const processor = await start({ BATCH_MAX_RECORDS: '50' });
      const target = Math.floor(((kill + 1) * total) / 5);
      await waitFor(async () => (await committedCount(db.pool, groupId, topic)) >= target, 30_000, () => processor.output().slice(-2000));
      await processor.stop('SIGKILL');
    }
    await finish();
  }, 300_000); // its waits: 3 x 30 s and 40 s
});
