import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { startTcpProxy, type TcpProxy } from '../../lib/testing/tcp-proxy.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { Oracle } from './oracle.js';
import { generateStream, produceKeyed } from './stream.js';

// The database going away for some seconds mid-stream: the processor pauses, reports not ready,
// retries with backoff, recovers, and ends in the oracle's state.

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
    const oracle = Oracle.of(stream);
    await produceKeyed(topic, stream);

    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    processor = await startProcessor({ DATABASE_URL: proxied.toString(), KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '30' });
    await waitFor(async () => (await committedCount(db.pool, groupId, topic)) > 200, 30_000, () => processor!.output().slice(-2000));

    proxy.cut();
    const atCut = await committedCount(db.pool, groupId, topic);
    expect(atCut).toBeLessThan(stream.length);
    await waitFor(async () => (await getEndpoint(processor!.port, '/ready')).status === 503, 10_000, () => 'never reported not ready');
    // Paused once the batcher has been full for a second, and retrying; nothing commits meanwhile.
    const pausedAndRetrying = async (): Promise<boolean> => {
      const metrics = (await getEndpoint(processor!.port, '/metrics')).body;
      return /wsm_processor_paused\{service="processor"\} 1/.test(metrics) && /wsm_processor_db_retries_total\{service="processor"\} [1-9]/.test(metrics);
    };
    await waitFor(pausedAndRetrying, 15_000, () => `never paused and retrying\n${processor!.output().slice(-2000)}`);
    expect(await committedCount(db.pool, groupId, topic)).toBe(atCut);

    proxy.restore();
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === stream.length,
      40_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${stream.length}\n${processor?.output().slice(-2000)}`,
    );
    await expectDatabaseMatchesOracle(db.pool, oracle);
    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
    expect(await processor.stop('SIGTERM')).toBe(0);
  }, 240_000); // its waits: 30 + 10 + 15 + 40 s
});
