import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { startTcpProxy, type TcpProxy } from '../../lib/testing/tcp-proxy.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { budget, committedCount, PROCESSOR_START_WAIT_MS, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { generateStream, produceStream } from './stream.js';

// The database blackholed mid-stream (packets dropped, no RST, connections left open): every
// connection of the processor gives up within its limits (lib/db/connection.ts), so the flush
// turns into retries and /ready into 503 instead of waiting for the kernel's retransmission
// timeout (about 15 minutes); once the network is back it carries on, without loss or duplicates.

let db: TestDatabase;
let proxy: TcpProxy;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('blackhole');
  proxy = await startTcpProxy(Number(new URL(db.url).port));
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await proxy?.close();
  await db?.drop();
});

/** GET with its own deadline: a hung endpoint reads as "no answer", never hangs the test. */
async function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { status: 0, body: `no answer: ${(error as Error).message}` };
  }
}

describe('database blackhole', () => {
  it('turns into retries and failed readiness, then recovers without loss or duplicates', async () => {
    const topic = uniqueTopic('blackhole');
    const groupId = 'blackhole-group';
    const stream = generateStream({ movements: 1500, seed: 23 });
    const produced = await produceStream(topic, stream);

    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    processor = await startProcessor({
      DATABASE_URL: proxied.toString(), KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '30',
      // A short statement limit so the client gives up on a silent connection in ~8 s, not 65.
      PROCESSOR_STATEMENT_TIMEOUT_MS: '3000',
    });
    await waitFor(async () => (await committedCount(db.pool, groupId, topic)) > 200, 30_000, () => processor!.output().slice(-2000));

    proxy.blackhole();
    const atHole = await committedCount(db.pool, groupId, topic);
    expect(atHole).toBeLessThan(stream.length);
    await waitFor(async () => (await probe(processor!.port, '/ready')).status === 503, 45_000, async () => `readiness: ${JSON.stringify(await probe(processor!.port, '/ready'))}`);
    const retrying = async (): Promise<boolean> => /wsm_processor_db_retries_total\{service="processor"\} [1-9]/.test((await probe(processor!.port, '/metrics')).body);
    await waitFor(retrying, 45_000, () => `the flush never gave up on the silent connection\n${processor!.output().slice(-2000)}`);

    proxy.restore();
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === stream.length,
      90_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${stream.length}\n${processor?.output().slice(-2000)}`,
    );
    await expectDatabaseMatchesOracle(db.pool, produced);
    await waitFor(async () => (await probe(processor!.port, '/ready')).status === 200, 30_000, () => 'never ready again');
    expect(await processor.stop('SIGTERM')).toBe(0);
  }, budget([PROCESSOR_START_WAIT_MS, 30_000, 45_000, 45_000, 90_000, 30_000]));
});
