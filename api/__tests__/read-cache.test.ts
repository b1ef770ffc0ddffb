/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { startTcpProxy } from '../../lib/testing/tcp-proxy.js';
import type { CacheResult } from '../metrics.js';
import { startApi, type ApiHarness } from './helpers.js';

/**
 * The read cache through the real HTTP server (README "Read API": single stock rows, single
 * movements and stats; API_CACHE_TTL_MS; concurrent requests for a loading key share its query).
 */

const WAIT_MS = 15_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(cacheTtlMs: number, database?: TestDatabase): Promise<ApiHarness> {
  const api = await startApi({ cacheTtlMs, database });
  cleanups.push(() => api.close());
  return api;
}

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase('api_cache');
  cleanups.push(() => db.drop());
  return db;
}

/** The cache's lookups so far, by result. */
async function lookups(api: ApiHarness, cache: string): Promise<Record<CacheResult, number>> {
  const counts: Record<CacheResult, number> = { hit: 0, miss: 0, coalesced: 0 };
  for (const { labels, value } of (await api.metrics.cacheRequests.get()).values) if (labels.cache === cache) counts[labels.result as CacheResult] = value;
  return counts;
}

describe('the read cache, through HTTP', () => {
  it('serves a stock row, a movement and the stats from the cache within the TTL, and reloads after it', async () => {
    const api = await harness(60_000);
    const arrival = envelope({ event: 'arrival', quantity: 20 });
    const { warehouse_id: w, product_id: p, movement_id: m } = arrival.data;
    await applyEnvelopes(api.database.url, [arrival]);
    const stockPath = `/api/warehouses/${w}/products/${p}`;
    expect((await api.get(stockPath)).body).toMatchObject({ quantity: 20 });
    expect((await api.get(`/api/movements/${m}`)).body.quantitySent).toBeNull();
    expect((await api.get('/api/stats')).body.events.total).toBe(1);

    // The database moves on; within the TTL every answer is the cached one.
    const departure = envelope({ movement_id: m, warehouse_id: randomUUID(), product_id: p, event: 'departure', quantity: 20 });
    await applyEnvelopes(api.database.url, [departure, envelope({ warehouse_id: w, product_id: p, quantity: 5 })]);
    expect((await api.get(stockPath)).body).toMatchObject({ quantity: 20 });
    expect((await api.get(`/api/movements/${m}`)).body.quantitySent).toBeNull();
    expect((await api.get('/api/stats')).body.events.total).toBe(1);
    for (const cache of ['stock', 'movement', 'stats']) expect(await lookups(api, cache)).toEqual({ hit: 1, miss: 1, coalesced: 0 });

    // A cache with a short TTL reloads once the entry expires: same database, fresh answers.
    const short = await harness(200, api.database);
    expect((await short.get(stockPath)).body).toMatchObject({ quantity: 25 });
    await applyEnvelopes(api.database.url, [envelope({ warehouse_id: w, product_id: p, quantity: 5 })]);
    const deadline = Date.now() + WAIT_MS;
    while ((await short.get(stockPath)).body.quantity !== 30) {
      if (Date.now() > deadline) throw new Error('the short-TTL cache never reloaded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await lookups(short, 'stock')).miss).toBe(2);
  }, 2 * WAIT_MS);

  it('answers concurrent requests for a key that is loading with that one query', async () => {
    const db = await database();
    const proxy = await startTcpProxy(Number(new URL(db.url).port));
    cleanups.push(() => proxy.close());
    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    const api = await harness(60_000, { ...db, url: proxied.toString() });
    const arrival = envelope({ event: 'arrival', quantity: 7 });
    await applyEnvelopes(db.url, [arrival]);
    const path = `/api/warehouses/${arrival.data.warehouse_id}/products/${arrival.data.product_id}`;

    // The first request's query is held in the proxy, so every other request arrives while it loads.
    void proxy.stall();
    const requests = Array.from({ length: 8 }, () => api.get(path));
    const deadline = Date.now() + WAIT_MS;
    while ((await lookups(api, 'stock')).coalesced < 7) {
      if (Date.now() > deadline) throw new Error(`requests did not all arrive: ${JSON.stringify(await lookups(api, 'stock'))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    proxy.release();
    const answers = await Promise.all(requests);
    expect(answers.map((a) => a.body.quantity as unknown)).toEqual(Array(8).fill(7));
    expect(await lookups(api, 'stock')).toEqual({ hit: 0, miss: 1, coalesced: 7 });
  }, 2 * WAIT_MS);
});
