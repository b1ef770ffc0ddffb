/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { startTcpProxy, type TcpProxy } from '../../lib/testing/tcp-proxy.js';
import { apiRoleUrl, startApi, type ApiHarness, type ApiResponse } from './helpers.js';
import { SseClient } from './sse-client.js';

/**
 * The database blackholed under a running API (../shared/design.md section 7): packets dropped,
 * no reset, through a TCP proxy that stops forwarding without closing anything. Readiness fails,
 * reads answer 503 problem+json instead of hanging, open live streams are ended rather than left
 * silent behind their heartbeats, new streams are refused, and everything recovers, with no
 * status change lost, once the network returns.
 */

let database: TestDatabase;
let proxy: TcpProxy;
let api: ApiHarness;

// Short limits so the test runs in seconds (the same code paths as the production defaults), yet
// generous enough that a loaded 2-core machine never misses one while the database is reachable.
const LIMITS = {
  statementTimeoutMs: 1000,
  queryTimeoutMs: 2500,
  connectTimeoutMs: 2000,
  probeMs: 250,
  probeTimeoutMs: 1500,
  reconnectMaxMs: 500,
  readyTimeoutMs: 2000,
  heartbeatMs: 200,
};
/** Far above any bound the limits allow (2 s connect + 2.5 s query, twice): a request taking this long hangs. */
const HANG_MS = 30_000;

const W = randomUUID();
const P = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase('api_blackhole');
  const roleUrl = new URL(await apiRoleUrl(database));
  proxy = await startTcpProxy(Number(roleUrl.port));
  roleUrl.port = String(proxy.port);
  api = await startApi({ database, apiDatabaseUrl: roleUrl.toString(), ...LIMITS });
  await applyEnvelopes(database.url, [envelope({ warehouse_id: W, product_id: P, event: 'arrival', quantity: 40 })]);
});

afterAll(async () => {
  proxy?.restore();
  await api?.close();
  await proxy?.close();
  await database?.drop();
});

/** GET that fails the test if no answer comes within HANG_MS; logs how long it took. */
async function timedGet(path: string, headers?: Record<string, string>): Promise<ApiResponse> {
  const started = performance.now();
  const response = await Promise.race([
    api.get(path, headers),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`GET ${path} hung for ${HANG_MS} ms`)), HANG_MS)),
  ]);
  console.log(`GET ${path}: ${response.status} after ${Math.round(performance.now() - started)} ms`);
  return response;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const stockPath = `/api/warehouses/${W}/products/${P}`;
const arrival = () => envelope({ warehouse_id: randomUUID(), event: 'arrival', quantity: 50 });

describe('a blackholed database', () => {
  it('fails readiness, answers 503 within its limits, ends live streams, and recovers without loss', { timeout: 180_000 }, async () => {
    await waitFor('readiness', async () => (await api.get('/ready')).status === 200);
    expect((await timedGet(stockPath)).body).toMatchObject({ quantity: 40 });
    const stream = new SseClient(`${api.baseUrl}/api/status-changes/stream`);
    await stream.open();
    expect(stream.status).toBe(200);
    await waitFor('the subscriber', () => Promise.resolve(api.hub.size === 1));
    await applyEnvelopes(database.url, [arrival()]);
    await stream.until(() => stream.events.length === 1, 'a change before the fault');
    const lastSeen = stream.ids().at(-1)!;

    proxy.blackhole();

    // The LISTEN connection misses a probe: the open stream is ended, not left to send heartbeats.
    await stream.until(() => stream.ended, 'the server to end the stream');
    expect(stream.comments.join('\n')).toContain('lost its database connection');
    const ready = await timedGet('/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toContain('application/problem+json');
    const read = await timedGet(stockPath);
    expect(read.status).toBe(503);
    expect(read.headers.get('content-type')).toContain('application/problem+json');
    expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(read.body.detail).toMatch(/did not answer|connection failed/);
    const refused = new SseClient(`${api.baseUrl}/api/status-changes/stream`);
    await refused.open();
    expect(refused.status).toBe(503);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body).toContain('reconnect');

    // Committed while the API cannot see the database (the processor writes over another path).
    await applyEnvelopes(database.url, [arrival()]);

    proxy.restore();

    await waitFor('readiness', async () => (await api.get('/ready')).status === 200);
    expect((await timedGet(stockPath)).body).toMatchObject({ quantity: 40 });
    const resumed = new SseClient(`${api.baseUrl}/api/status-changes/stream`, { 'Last-Event-ID': String(lastSeen) });
    await resumed.open();
    try {
      expect(resumed.status).toBe(200);
      await resumed.until(() => resumed.events.length === 1, 'the change committed during the fault');
      await applyEnvelopes(database.url, [arrival()]);
      await resumed.until(() => resumed.events.length === 2, 'a live change after recovery');
      expect(resumed.ids()[1]).toBeGreaterThan(resumed.ids()[0]!);
      expect(resumed.ids()[0]).toBeGreaterThan(lastSeen);
    } finally {
      await resumed.close();
      await stream.close();
    }
  });
});
