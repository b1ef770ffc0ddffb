import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { startTcpProxy, type TcpProxy } from '../../lib/testing/tcp-proxy.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { budget, committedCount, getEndpoint, metricValue, PROCESSOR_START_WAIT_MS, scrape, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { generateStream, produceStream } from './stream.js';

// The database going away for some seconds mid-stream: the processor pauses, reports not ready
// naming the failing check, retries with backoff, recovers, and ends in the oracle's state.

const PROGRESS_WAIT_MS = 30_000;
const NOT_READY_WAIT_MS = 10_000;
const PAUSE_WAIT_MS = 15_000;
const RECOVER_WAIT_MS = 40_000;

let db: TestDatabase;
let proxy: TcpProxy;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('outage');
  proxy = await startTcpProxy(Number(new URL(db.url).port));
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await proxy?.close();
  await db?.drop();
});

describe('database outage', () => {
  it('pauses while the database is gone and recovers without loss or duplicates', async () => {
    const topic = uniqueTopic('outage');
    const groupId = 'outage-group';
    const stream = generateStream({ movements: 1500, seed: 21 });
    const produced = await produceStream(topic, stream);

    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    processor = await startProcessor({ DATABASE_URL: proxied.toString(), KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '30' });
    await waitFor(async () => (await committedCount(db.pool, groupId, topic)) > 200, PROGRESS_WAIT_MS, () => processor!.output().slice(-2000));

    proxy.cut();
    const atCut = await committedCount(db.pool, groupId, topic);
    expect(atCut).toBeLessThan(stream.length);
    await waitFor(async () => (await getEndpoint(processor!.port, '/ready')).status === 503, NOT_READY_WAIT_MS, () => 'never reported not ready');
    // The answer names the failing check: the group is still joined, the database is not reachable.
    const notReady = JSON.parse((await getEndpoint(processor.port, '/ready')).body) as { status: string; checks: Record<string, string> };
    expect(notReady).toMatchObject({ status: 'not ready', checks: { group: 'joined' } });
    expect(notReady.checks.database).toMatch(/^unreachable: /);
    // Paused once the batcher has been full for a second, and retrying; nothing commits meanwhile.
    const pausedAndRetrying = async (): Promise<boolean> => {
      const metrics = await scrape(processor!);
      return metricValue(metrics, 'wsm_processor_paused') === 1 && (metricValue(metrics, 'wsm_processor_db_retries_total') ?? 0) >= 1;
    };
    await waitFor(pausedAndRetrying, PAUSE_WAIT_MS, () => `never paused and retrying\n${processor!.output().slice(-2000)}`);
    expect(await committedCount(db.pool, groupId, topic)).toBe(atCut);

    proxy.restore();
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === stream.length,
      RECOVER_WAIT_MS,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${stream.length}\n${processor?.output().slice(-2000)}`,
    );
    await expectDatabaseMatchesOracle(db.pool, produced);
    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
    expect(await processor.stop('SIGTERM')).toBe(0);
  }, budget([PROCESSOR_START_WAIT_MS, PROGRESS_WAIT_MS, NOT_READY_WAIT_MS, PAUSE_WAIT_MS, RECOVER_WAIT_MS]));
});
