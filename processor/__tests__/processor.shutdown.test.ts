import { afterEach, describe, expect, it } from 'vitest';
import { PROCESSOR_SHUTDOWN_BUDGET_MS } from '../../lib/shutdown-budget.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic, watchGroup } from '../../lib/testing/kafka.js';
import { startTcpProxy, type TcpProxy } from '../../lib/testing/tcp-proxy.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import {
  budget, committedCount, flushedBatches, LOG, metricValue, PROCESSOR_START_WAIT_MS, scrape, startProcessor, stopWithin, waitFor, type RunningProcessor,
} from './helpers.js';
import { generateStream, produceStream } from './stream.js';

// Shutdown with records read but not yet flushed. SIGTERM or SIGINT: stop fetching, flush what is
// held (flush reason "shutdown"), commit, leave the group, exit 0. With the database unreachable,
// the last flush is given up after its bound (lib/shutdown-budget.ts) and the process still exits;
// what it held is redelivered to the next instance.

const CONSUME_WAIT_MS = 30_000;
const STOP_WAIT_MS = 30_000;
/** The processor's own bound on the last flush, which the stop must outlast. */
const SHUTDOWN_FLUSH_TIMEOUT_MS = PROCESSOR_SHUTDOWN_BUDGET_MS.lastFlush;
/**
 * Leaving the group, seen from another member: a LeaveGroup makes the coordinator rebalance at
 * once, and the other member is revoked at its next heartbeat (every second); a member that
 * vanished without leaving is only noticed when its session expires. With a session of 10 s, a
 * revocation within 5 s of the exit tells the two apart.
 */
const LEAVE_SESSION_MS = 10_000;
const LEAVE_PROOF_WAIT_MS = 5_000;
const JOIN_WAIT_MS = 30_000;
const COMMIT_WAIT_MS = 40_000;

const running: RunningProcessor[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(prefix: string) {
  const db: TestDatabase = await createTestDatabase(prefix);
  cleanups.push(() => db.drop());
  const topic = uniqueTopic(prefix);
  const groupId = `${prefix}-group`;
  const stream = generateStream({ movements: 200, seed: 3 });
  const produced = await produceStream(topic, stream);
  // Neither limit is reached: without the shutdown flush nothing would ever be written.
  const env = { DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100000', BATCH_MAX_WAIT_MS: '600000', LOG_LEVEL: 'debug' };
  const start = async (extra: Record<string, string> = {}): Promise<RunningProcessor> => {
    const processor = await startProcessor({ ...env, ...extra });
    running.push(processor);
    return processor;
  };
  const holdingEverything = async (processor: RunningProcessor): Promise<void> => {
    await waitFor(async () => metricValue(await scrape(processor), 'wsm_processor_events_consumed_total') === stream.length, CONSUME_WAIT_MS, () => processor.output().slice(-2000));
    expect(await committedCount(db.pool, groupId, topic)).toBe(0);
  };
  return { db, topic, groupId, stream, produced, env, start, holdingEverything };
}

describe('graceful shutdown', () => {
  // SIGINT takes the same path; the group-leave proof (a watching member, slow to join with its
  // long session) runs once, for SIGTERM.
  it.each([
    { signal: 'SIGTERM', proveLeave: true },
    { signal: 'SIGINT', proveLeave: false },
  ] as const)(
    'on $signal flushes what it holds (reason shutdown), commits, leaves the group and exits 0',
    async ({ signal, proveLeave }) => {
      const { db, topic, groupId, stream, produced, start, holdingEverything } = await setUp(`shutdown_${signal.toLowerCase()}`);
      const watcher = proveLeave ? await watchGroup(groupId, LEAVE_SESSION_MS) : undefined;
      if (watcher) {
        cleanups.push(() => watcher.close());
        await watcher.waitFor('assign', 0, JOIN_WAIT_MS);
      }
      const processor = await start(watcher ? { KAFKA_SESSION_TIMEOUT_MS: String(LEAVE_SESSION_MS) } : {});
      await processor.waitForLog(LOG.assigned, 'its assignment', JOIN_WAIT_MS);
      await holdingEverything(processor);

      const mark = processor.logs().length;
      const watched = watcher?.events.length ?? 0;
      expect(await stopWithin(processor, signal, STOP_WAIT_MS)).toBe(0);
      // It left the group: the other member is revoked at once, not when a session would expire.
      await watcher?.waitFor('revoke', watched, LEAVE_PROOF_WAIT_MS);
      const after = processor.logs().slice(mark);
      const index = (matches: (line: { msg?: string }) => boolean): number => after.findIndex(matches);
      expect(after[index((l) => l.msg?.startsWith('shutting down') === true)]).toMatchObject({ signal });
      // One flush, of everything held, for the shutdown; then the group's revoke (leaving), with nothing left to flush.
      expect(flushedBatches(processor, mark)).toEqual([{ reason: 'shutdown', records: stream.length }]);
      expect(index(LOG.flushed)).toBeLessThan(index(LOG.revoked));
      expect(index((l) => l.msg === 'processor stopped')).toBe(after.length - 1);
      expect(await committedCount(db.pool, groupId, topic)).toBe(stream.length);
      await expectDatabaseMatchesOracle(db.pool, produced);
    },
    budget([PROCESSOR_START_WAIT_MS, 2 * JOIN_WAIT_MS, CONSUME_WAIT_MS, STOP_WAIT_MS, LEAVE_PROOF_WAIT_MS]),
  );

  it(
    'gives up the last flush after its bound when the database is unreachable, exits, and the records are redelivered',
    async () => {
      const { db, topic, groupId, stream, produced, start, holdingEverything } = await setUp('shutdown_bound');
      const proxy: TcpProxy = await startTcpProxy(Number(new URL(db.url).port));
      cleanups.push(() => proxy.close());
      const proxied = new URL(db.url);
      proxied.port = String(proxy.port);
      const processor = await start({ DATABASE_URL: proxied.toString() });
      await holdingEverything(processor);

      proxy.cut();
      const mark = processor.logs().length;
      expect(await stopWithin(processor, 'SIGTERM', SHUTDOWN_FLUSH_TIMEOUT_MS + STOP_WAIT_MS)).toBe(0);
      expect(processor.logs().slice(mark).some((line) => /abandon/i.test(line.msg ?? ''))).toBe(true);
      expect(flushedBatches(processor, mark)).toEqual([]);
      expect(await committedCount(db.pool, groupId, topic)).toBe(0);

      proxy.restore();
      const next = await start({ BATCH_MAX_WAIT_MS: '50' });
      await waitFor(async () => (await committedCount(db.pool, groupId, topic)) === stream.length, COMMIT_WAIT_MS, () => next.output().slice(-2000));
      await expectDatabaseMatchesOracle(db.pool, produced);
    },
    budget([2 * PROCESSOR_START_WAIT_MS, CONSUME_WAIT_MS, SHUTDOWN_FLUSH_TIMEOUT_MS + STOP_WAIT_MS, COMMIT_WAIT_MS]),
  );
});
