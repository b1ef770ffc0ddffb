import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { startTcpProxy, type TcpProxy } from '../../lib/testing/tcp-proxy.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import {
  budget, committedCount, currentAssignment, flushedBatches, LOG, PROCESSOR_START_WAIT_MS, startProcessor, storedOffsets, waitFor, type RunningProcessor,
} from './helpers.js';
import { generateStream, PARTITIONS, produceStream, type ProducedMessage } from './stream.js';

// A forced fence in a live group. Instance A's database connection stalls (a TCP proxy holds what
// A sends from its next apply_batch on) while A holds a batch; instance B joins, the group gives
// up on A (stuck in its revoke flush, it neither heartbeats nor rejoins) and B, owning every
// partition from the stored offsets, applies A's records and moves past them. Released, A's late
// batch must be refused by the fence and dropped, and A must restart from the stored offsets and
// go on consuming: the database ends in the oracle's state, every message applied once.

const JOIN_WAIT_MS = 30_000;
const STALL_WAIT_MS = 30_000;
const TAKEOVER_WAIT_MS = 60_000;
const FENCE_WAIT_MS = 30_000;
const FINISH_WAIT_MS = 60_000;

let db: TestDatabase;
let proxy: TcpProxy;
const running: RunningProcessor[] = [];
beforeAll(async () => {
  db = await createTestDatabase('fence');
  proxy = await startTcpProxy(Number(new URL(db.url).port));
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await proxy?.close();
  await db?.drop();
});

describe('a stale owner in a live group', () => {
  it(
    'has its late batch fenced once the new owner moved past it, and restarts from the stored offsets without loss',
    async () => {
      const topic = uniqueTopic('fence');
      const groupId = 'fence-group';
      const stream = generateStream({ movements: 1500, seed: 17, warehouses: 8 });
      const half = Math.floor(stream.length / 2);
      const produced: ProducedMessage[] = [];
      const committed = (): Promise<number> => committedCount(db.pool, groupId, topic);
      const env = { KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '50', LOG_LEVEL: 'debug' };
      const proxied = new URL(db.url);
      proxied.port = String(proxy.port);

      const stale = await startProcessor({ ...env, DATABASE_URL: proxied.toString() });
      running.push(stale);
      await stale.waitForLog(LOG.assigned, 'its assignment', JOIN_WAIT_MS);
      produced.push(...(await produceStream(topic, stream.slice(0, half))));
      await waitFor(async () => (await committed()) >= 300, STALL_WAIT_MS, () => stale.output().slice(-2000));

      // Hold A's next merge before it reaches the server: no advisory lock held, nothing applied.
      await proxy.stall({ when: 'apply_batch' });
      const atStall = await storedOffsets(db.pool, groupId, topic);
      expect([...atStall.values()].reduce((a, b) => a + b, 0)).toBeLessThan(half);

      const owner = await startProcessor({ ...env, DATABASE_URL: db.url });
      running.push(owner);
      // The group evicts A; B owns everything and commits every record produced so far, A's included.
      await waitFor(
        async () => currentAssignment(owner).length === PARTITIONS && (await committed()) === half,
        TAKEOVER_WAIT_MS,
        async () => `B owns [${currentAssignment(owner).join(',')}], committed ${await committed()} of ${half}\n--- B\n${owner.output().slice(-2000)}`,
      );
      expect(stale.logs().some(LOG.fenced), 'fenced while stalled').toBe(false);

      const mark = stale.logs().length;
      proxy.release();
      const fenced = await stale.waitForLog(LOG.fenced, 'its late batch fenced', FENCE_WAIT_MS, mark);
      // The refused batch started where A had stopped committing, behind what B has stored since.
      const stored = await storedOffsets(db.pool, groupId, topic);
      for (const range of fenced.ranges as { partition: number; first: number; next: number }[]) {
        expect(range.first, `partition ${range.partition}`).toBe(atStall.get(range.partition) ?? 0);
        expect(stored.get(range.partition)!).toBeGreaterThan(range.first);
      }
      await stale.waitForLog(LOG.restarted, 'its restart from the stored offsets', FENCE_WAIT_MS, mark);

      // Both go on: A rejoins, gets partitions again and commits its share of the rest.
      await waitFor(
        () => {
          const [a, b] = [currentAssignment(stale), currentAssignment(owner)];
          return Promise.resolve(a.length > 0 && b.length > 0 && [...a, ...b].sort().join() === [...Array(PARTITIONS).keys()].join());
        },
        JOIN_WAIT_MS,
        () => `A owns [${currentAssignment(stale).join(',')}], B owns [${currentAssignment(owner).join(',')}]\n--- A\n${stale.output().slice(-2000)}`,
      );
      const afterFence = stale.logs().length;
      produced.push(...(await produceStream(topic, stream.slice(half))));
      await waitFor(
        async () => (await committed()) === stream.length,
        FINISH_WAIT_MS,
        async () => `committed ${await committed()} of ${stream.length}\n--- A\n${stale.output().slice(-2000)}\n--- B\n${owner.output().slice(-2000)}`,
      );
      expect(flushedBatches(stale, afterFence).length, 'batches A committed after its restart').toBeGreaterThan(0);
      expect(stale.output()).not.toContain('dropped a message already read');
      await expectDatabaseMatchesOracle(db.pool, produced);
    },
    budget([2 * PROCESSOR_START_WAIT_MS, 2 * JOIN_WAIT_MS, STALL_WAIT_MS, TAKEOVER_WAIT_MS, 2 * FENCE_WAIT_MS, FINISH_WAIT_MS]),
  );
});
