import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle, expectNotificationsMatch } from './assertions.js';
import {
  budget, committedCount, currentAssignment, flushedBatches, LOG, metricValue, PROCESSOR_START_WAIT_MS, scrape, startProcessor, stopWithin, waitFor, type RunningProcessor,
} from './helpers.js';
import { generateStream, PARTITIONS, produceStream, type ProducedMessage } from './stream.js';

// Two and three instances in one group, joining and leaving between the parts of a stream. Every
// phase waits until each member owns its partitions in the new generation and until the members
// have read everything produced so far, so each membership change is a real rebalance with
// records held: batches flush only by size (BATCH_MAX_WAIT_MS is out of reach), so what a member
// holds when its partitions are revoked is known exactly and must be committed by its revoke
// flush (or its shutdown flush when it leaves), before the partitions move. The database then
// ends in the oracle's state, and every record was read exactly once across all instances.

const BATCH = 50;
const ASSIGN_WAIT_MS = 30_000;
const CATCH_UP_WAIT_MS = 60_000;
const STOP_WAIT_MS = 40_000;
const NOTIFY_WAIT_MS = 30_000;
/** Join, join, leave, leave: each followed by a part of the stream; plus the first part. */
const CHANGES = 4;

let db: TestDatabase;
const everyInstance: RunningProcessor[] = [];
beforeAll(async () => {
  db = await createTestDatabase('rebalance');
});
afterAll(async () => {
  await Promise.all(everyInstance.map((p) => p.stop('SIGKILL')));
  await db?.drop();
});

interface Member {
  name: string;
  processor: RunningProcessor;
  /** Messages it read before the current phase (its consumed counter then). */
  consumedAtPhaseStart: number;
  /** Its consumed counter, last scraped. */
  consumed: number;
  /** Index into its log where the current phase began. */
  logMark: number;
}

describe('several processors in one group', () => {
  it(
    'share partitions through joins and leaves mid-stream, flush what they hold on every revoke, and match the oracle',
    async () => {
      const topic = uniqueTopic('rebalance');
      const groupId = 'rebalance-group';
      const stream = generateStream({ movements: 3000, seed: 33, warehouses: 12 });
      const parts = CHANGES + 1;
      const produced: ProducedMessage[] = [];
      const env = { DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: String(BATCH), BATCH_MAX_WAIT_MS: '600000', LOG_LEVEL: 'debug' };
      const live: Member[] = [];
      const gone: Member[] = [];
      let revokeFlushes = 0;

      const producePart = async (part: number): Promise<void> => {
        const from = Math.floor((stream.length * part) / parts);
        const to = Math.floor((stream.length * (part + 1)) / parts);
        produced.push(...(await produceStream(topic, stream.slice(from, to))));
      };
      const describe = async (): Promise<string> =>
        `committed ${await committedCount(db.pool, groupId, topic)} of ${produced.length} produced; ` +
        live.map((m) => `${m.name}: consumed ${m.consumed}, owns [${currentAssignment(m.processor).join(',')}]`).join('; ') +
        `\n${live.map((m) => `--- ${m.name}\n${m.processor.output().slice(-1500)}`).join('\n')}`;
      /** Records a member holds: what it read this phase beyond the full batches it flushed. */
      const held = (member: Member): number => (member.consumed - member.consumedAtPhaseStart) % BATCH;
      const scrapeAll = async (): Promise<void> => {
        for (const member of live) member.consumed = metricValue(await scrape(member.processor), 'wsm_processor_events_consumed_total') ?? 0;
      };
      const consumedEverywhere = (): number => [...live, ...gone].reduce((sum, m) => sum + m.consumed, 0);

      /** Every record produced so far was read exactly once, and all full batches are committed. */
      const catchUp = async (): Promise<void> => {
        await waitFor(
          async () => {
            await scrapeAll();
            if (consumedEverywhere() !== produced.length) return false;
            const holding = live.reduce((sum, m) => sum + held(m), 0);
            return (await committedCount(db.pool, groupId, topic)) === produced.length - holding;
          },
          CATCH_UP_WAIT_MS,
          describe,
        );
      };

      /** Waits until every live member owns partitions of a generation after `change`, covering the topic. */
      const rebalanced = async (previous: Member[]): Promise<void> => {
        await Promise.all(live.map((m) => m.processor.waitForLog(LOG.assigned, `${m.name}'s assignment after the change`, ASSIGN_WAIT_MS, m.logMark)));
        await waitFor(
          () => {
            const owned = live.map((m) => currentAssignment(m.processor));
            return Promise.resolve(owned.every((partitions) => partitions.length > 0) && owned.flat().sort().join() === [...Array(PARTITIONS).keys()].join());
          },
          ASSIGN_WAIT_MS,
          describe,
        );
        // Everything held when the partitions were revoked was committed, by the holder, in one revoke flush.
        expect(await committedCount(db.pool, groupId, topic)).toBe(produced.length);
        for (const member of previous.filter((m) => live.includes(m))) {
          const revokes = flushedBatches(member.processor, member.logMark).filter((b) => b.reason === 'revoke');
          expect(revokes.map((b) => b.records), `${member.name}'s revoke flushes`).toEqual(held(member) > 0 ? [held(member)] : []);
          revokeFlushes += revokes.length;
        }
        await scrapeAll();
        for (const member of live) {
          member.consumedAtPhaseStart = member.consumed;
          member.logMark = member.processor.logs().length;
        }
      };

      const join = async (name: string): Promise<void> => {
        const previous = [...live];
        for (const member of live) member.logMark = member.processor.logs().length;
        const processor = await startProcessor(env);
        everyInstance.push(processor);
        live.push({ name, processor, consumedAtPhaseStart: 0, consumed: 0, logMark: 0 });
        await rebalanced(previous);
      };

      const leave = async (name: string, last = false): Promise<void> => {
        const member = live.find((m) => m.name === name)!;
        const previous = [...live];
        live.splice(live.indexOf(member), 1);
        for (const other of live) other.logMark = other.processor.logs().length;
        const mark = member.processor.logs().length;
        expect(await stopWithin(member.processor, 'SIGTERM', STOP_WAIT_MS)).toBe(0);
        // Its shutdown flush committed what it held; it read nothing more after being caught up.
        const shutdown = flushedBatches(member.processor, mark);
        expect(shutdown.map((b) => `${b.reason}:${b.records}`), `${name}'s flushes after SIGTERM`).toEqual(held(member) > 0 ? [`shutdown:${held(member)}`] : []);
        gone.push(member);
        if (last) expect(await committedCount(db.pool, groupId, topic)).toBe(produced.length);
        else await rebalanced(previous);
      };

      /** Every member read from its partitions and committed batches in the phase that just ended. */
      const everyoneWorked = (): void => {
        for (const member of live) {
          expect(member.consumed - member.consumedAtPhaseStart, `${member.name} read nothing this phase`).toBeGreaterThan(0);
          const batches = flushedBatches(member.processor, member.logMark);
          expect(batches.every((b) => b.reason === 'size' && b.records === BATCH), `${member.name}: only full batches while caught up`).toBe(true);
          expect(batches.length, `${member.name}'s committed batches this phase`).toBe(Math.floor((member.consumed - member.consumedAtPhaseStart) / BATCH));
        }
      };

      // Each part is produced once the group has settled, so no record is read during a rebalance.
      await join('first');
      await producePart(0);
      await catchUp();
      everyoneWorked();
      for (const [part, change] of [[1, () => join('second')], [2, () => join('third')], [3, () => leave('first')], [4, () => leave('third')]] as const) {
        await change();
        await producePart(part);
        await catchUp();
        everyoneWorked();
      }
      expect(revokeFlushes, 'revoke flushes that committed held records').toBeGreaterThan(0);
      await leave('second', true);
      expect(consumedEverywhere(), 'records read, over all instances').toBe(stream.length);
      expect(await committedCount(db.pool, groupId, topic)).toBe(stream.length);

      const check = await expectDatabaseMatchesOracle(db.pool, produced);
      await expectNotificationsMatch(db.pool, `${topic}.notify`, check, NOTIFY_WAIT_MS);
    },
    budget([
      3 * PROCESSOR_START_WAIT_MS,
      (CHANGES + 1) * (2 * ASSIGN_WAIT_MS + CATCH_UP_WAIT_MS),
      3 * STOP_WAIT_MS,
      NOTIFY_WAIT_MS,
    ]),
  );
});
