import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle, expectNotificationsMatch } from './assertions.js';
import {
  budget, committedCount, currentAssignment, flushedBatches, LOG, metricValue, PROCESSOR_START_WAIT_MS, scrape, startProcessor, stopWithin, waitFor,
  type RunningProcessor,
} from './helpers.js';
import { generateStream, PARTITIONS, produceStream, type ProducedMessage } from './stream.js';

// Two, three and four instances in one group, joining and leaving between the parts of a stream.
//
// Quiet changes: the members have read everything produced so far, then one joins or leaves, and
// the test waits until every member owns partitions of the new generation. Batches flush only by
// size (BATCH_MAX_WAIT_MS is out of reach), so what each member holds at the change is known
// exactly (records read minus records in its committed batches, from its 'batch flushed' lines)
// and must be committed by exactly one revoke flush (shutdown flush for the leaver) before the
// partitions move: after the rebalance everything produced is committed.
//
// A busy change: a member joins while records are being produced and read. Whatever is in
// flight, every record must be read exactly once over all instances (a member that kept reading
// revoked partitions would read some twice) and the end must match the oracle.

const BATCH = 50;
const ASSIGN_WAIT_MS = 30_000;
const CATCH_UP_WAIT_MS = 60_000;
const STOP_WAIT_MS = 40_000;
const NOTIFY_WAIT_MS = 30_000;
/** Joins (second, third), leaves (first, third), then the busy join (fourth). */
const CHANGES = 5;
/** The busy part's production rate: slow enough that it spans the fourth member's join. */
const BUSY_PER_SECOND = 150;

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
  /** Its consumed counter when the current phase began, and last scraped. */
  consumedAtPhaseStart: number;
  consumed: number;
  /** Index into its log where the current phase (or change) began. */
  logMark: number;
  /** What it held when the last quiet change began. */
  heldAtChange: number;
}

describe('several processors in one group', () => {
  it(
    'share partitions through joins and leaves, flush exactly what they hold on every revoke, read every record once, and match the oracle',
    async () => {
      const topic = uniqueTopic('rebalance');
      const groupId = 'rebalance-group';
      const stream = generateStream({ movements: 3000, seed: 33, warehouses: 12 });
      const parts = CHANGES + 1;
      const produced: ProducedMessage[] = [];
      const env = { DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: String(BATCH), BATCH_MAX_WAIT_MS: '600000', LOG_LEVEL: 'debug' };
      const live: Member[] = [];
      const gone: Member[] = [];
      const revokeFlushes: string[] = [];

      const part = (index: number) => stream.slice(Math.floor((stream.length * index) / parts), Math.floor((stream.length * (index + 1)) / parts));
      const producePart = async (index: number, perSecond?: number): Promise<void> => {
        produced.push(...(await produceStream(topic, part(index), { perSecond })));
      };
      const committed = (): Promise<number> => committedCount(db.pool, groupId, topic);
      const describe = async (): Promise<string> =>
        `committed ${await committed()} of ${produced.length} produced; ` +
        live.map((m) => `${m.name}: consumed ${m.consumed}, holds ${held(m)}, owns [${currentAssignment(m.processor).join(',')}]`).join('; ') +
        `\n${live.map((m) => `--- ${m.name}\n${m.processor.output().slice(-1500)}`).join('\n')}`;
      /** Records a member read and has not committed: its consumed counter minus its committed batches. */
      const held = (member: Member): number => member.consumed - flushedBatches(member.processor).reduce((sum, b) => sum + b.records, 0);
      const scrapeAll = async (): Promise<void> => {
        for (const member of live) member.consumed = metricValue(await scrape(member.processor), 'wsm_processor_events_consumed_total') ?? 0;
      };
      const consumedEverywhere = (): number => [...live, ...gone].reduce((sum, m) => sum + m.consumed, 0);

      /**
       * Every record produced so far was read, once, and everything but what the members hold is
       * committed; no member holds a full batch (that one is being flushed, slowly on a busy
       * machine: seen as 'third's committed batches: expected 9 to be 10'); the same on two polls
       * in a row, so no flush was between its counters.
       */
      const catchUp = async (): Promise<void> => {
        let previous = '';
        await waitFor(
          async () => {
            await scrapeAll();
            const read = consumedEverywhere();
            if (read > produced.length) throw new Error(`records read twice: ${read} read of ${produced.length} produced\n${await describe()}`);
            const state = JSON.stringify([read, await committed(), live.map(held)]);
            // A member holding a full batch is flushing it (size flushes only): its commit is still to come.
            const settled = live.every((m) => held(m) < BATCH);
            const done = read === produced.length && settled && (await committed()) === produced.length - live.reduce((sum, m) => sum + held(m), 0) && state === previous;
            previous = state;
            return done;
          },
          CATCH_UP_WAIT_MS,
          describe,
        );
        for (const member of live) member.heldAtChange = held(member);
      };

      /** Waits until every live member owns partitions of the generation after the change, together all of them. */
      const rebalanced = async (previous: Member[], quiet: boolean): Promise<void> => {
        await Promise.all(live.map((m) => m.processor.waitForLog(LOG.assigned, `${m.name}'s assignment after the change`, ASSIGN_WAIT_MS, m.logMark)));
        await waitFor(
          () => {
            const owned = live.map((m) => currentAssignment(m.processor));
            return Promise.resolve(owned.every((partitions) => partitions.length > 0) && owned.flat().sort().join() === [...Array(PARTITIONS).keys()].join());
          },
          ASSIGN_WAIT_MS,
          describe,
        );
        if (quiet) {
          // What each member held was committed, by itself, in one revoke flush, before its partitions moved.
          expect(await committed()).toBe(produced.length);
          for (const member of previous.filter((m) => live.includes(m))) {
            const revokes = flushedBatches(member.processor, member.logMark).filter((b) => b.reason === 'revoke');
            expect(revokes.map((b) => b.records), `${member.name}'s revoke flushes`).toEqual(member.heldAtChange > 0 ? [member.heldAtChange] : []);
            if (revokes.length > 0) revokeFlushes.push(`${member.name}:${revokes[0]!.records}`);
          }
        }
        await scrapeAll();
        for (const member of live) {
          member.consumedAtPhaseStart = member.consumed;
          member.logMark = member.processor.logs().length;
        }
      };

      const join = async (name: string, quiet = true): Promise<void> => {
        const previous = [...live];
        for (const member of live) member.logMark = member.processor.logs().length;
        const processor = await startProcessor(env);
        everyInstance.push(processor);
        live.push({ name, processor, consumedAtPhaseStart: 0, consumed: 0, logMark: 0, heldAtChange: 0 });
        await rebalanced(previous, quiet);
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
        expect(shutdown.map((b) => `${b.reason}:${b.records}`), `${name}'s flushes after SIGTERM`).toEqual(member.heldAtChange > 0 ? [`shutdown:${member.heldAtChange}`] : []);
        gone.push(member);
        if (last) expect(await committed()).toBe(produced.length);
        else await rebalanced(previous, true);
      };

      /** In a quiet phase, every member read from its partitions and committed only full batches of what it read. */
      const everyoneWorked = (): void => {
        for (const member of live) {
          const read = member.consumed - member.consumedAtPhaseStart;
          expect(read, `${member.name} read nothing this phase`).toBeGreaterThan(0);
          const batches = flushedBatches(member.processor, member.logMark);
          expect(batches.every((b) => b.reason === 'size' && b.records === BATCH), `${member.name}: only full batches while caught up`).toBe(true);
          // It began the phase holding nothing (revoke flush, or new), so it holds the remainder now.
          expect(batches.length, `${member.name}'s committed batches this phase`).toBe(Math.floor(read / BATCH));
          expect(member.heldAtChange).toBe(read % BATCH);
        }
      };

      // Each quiet part is produced once the group has settled, so no record is read during a rebalance.
      await join('first');
      await producePart(0);
      await catchUp();
      everyoneWorked();
      for (const [index, change] of [[1, () => join('second')], [2, () => join('third')], [3, () => leave('first')], [4, () => leave('third')]] as const) {
        await change();
        await producePart(index);
        await catchUp();
        everyoneWorked();
      }
      expect(revokeFlushes.length, 'revoke flushes that committed held records').toBeGreaterThan(0);

      // The busy change: 'fourth' joins while the last part is produced and read.
      const busy = producePart(5, BUSY_PER_SECOND);
      await join('fourth', false);
      await busy;
      await catchUp();
      const fourth = live.find((m) => m.name === 'fourth')!;
      expect(fourth.consumed, 'fourth read part of the busy part').toBeGreaterThan(0);
      await leave('fourth');
      await catchUp();
      await leave('second', true);
      console.log(`revoke flushes of held records: ${revokeFlushes.join(', ')}`);
      expect(consumedEverywhere(), 'records read, over all instances').toBe(stream.length);
      expect(await committed()).toBe(stream.length);

      const check = await expectDatabaseMatchesOracle(db.pool, produced);
      // Content and count exactly; not the order across a handover (see expectNotificationsMatch).
      await expectNotificationsMatch(db.pool, `${topic}.notify`, check, NOTIFY_WAIT_MS, { inCommitOrder: false });
    },
    budget([
      4 * PROCESSOR_START_WAIT_MS,
      (CHANGES + 1) * (2 * ASSIGN_WAIT_MS + CATCH_UP_WAIT_MS),
      part5Seconds() * 1000,
      4 * STOP_WAIT_MS,
      NOTIFY_WAIT_MS,
    ]),
  );
});

/** How long producing the busy part takes at BUSY_PER_SECOND (an upper bound: the stream is about 7k messages). */
function part5Seconds(): number {
  return Math.ceil(8000 / (CHANGES + 1) / BUSY_PER_SECOND);
}
