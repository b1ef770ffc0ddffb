import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { committedCount, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { Oracle } from './oracle.js';
import { generateStream, produceKeyed } from './stream.js';

// Two and three instances in one group, joining and leaving in the middle of a stream: the
// partitions move between them (revoke flushes, new owners start from the stored offsets) and the
// database still ends in the oracle's state.

let db: TestDatabase;
const running: RunningProcessor[] = [];
beforeAll(async () => {
  db = await createTestDatabase('rebalance');
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await db?.drop();
});

describe('several processors in one group', () => {
  it('share partitions through joins and leaves mid-stream and match the oracle', async () => {
    const topic = uniqueTopic('rebalance');
    const groupId = 'rebalance-group';
    const stream = generateStream({ movements: 4000, seed: 33, warehouses: 12 });
    const oracle = Oracle.of(stream);
    // Produced in five parts, one per membership change, so every join and leave happens while
    // records are still arriving (per-key order is kept: the parts go out one after another).
    const parts = 5;
    const produced = (part: number) => Math.floor((stream.length * part) / parts);
    const producePart = (part: number) =>
      produceKeyed(topic, stream.slice(produced(part), produced(part + 1)));
    const env = { DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '50', BATCH_MAX_WAIT_MS: '20' };
    const start = async (): Promise<RunningProcessor> => {
      const processor = await startProcessor(env);
      running.push(processor);
      return processor;
    };
    const began = Date.now();
    const reach = (share: number) =>
      waitFor(
        async () => (await committedCount(db.pool, groupId, topic)) >= Math.floor(stream.length * share),
        40_000,
        async () => {
          running.forEach((p, i) => writeFileSync(`/tmp/rebalance-${i}.log`, p.output()));
          return `committed ${await committedCount(db.pool, groupId, topic)} of ${stream.length} (outputs in /tmp/rebalance-*.log)`;
        },
      );

    const log = (step: string) => console.log(`${((Date.now() - began) / 1000).toFixed(1)}s ${step}`);
    await producePart(0);
    const first = await start();
    await reach(0.1); log('one instance');
    await producePart(1);
    await start();
    await reach(0.3); log('two instances');
    await producePart(2);
    const third = await start();
    await reach(0.5); log('three instances');
    await producePart(3);
    await first.stop('SIGTERM'); // a graceful leave hands its partitions over
    await reach(0.7); log('first left');
    await producePart(4);
    await third.stop('SIGTERM');
    await reach(1); log('third left');
    await expectDatabaseMatchesOracle(db.pool, oracle);
  }, 420_000); // its waits: 5 x 40 s
});
