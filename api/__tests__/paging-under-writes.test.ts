/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { startApi, type ApiHarness } from './helpers.js';

/**
 * Keyset pages while the processor's write path commits batches (README "Read API": rows
 * committed while paging never cause gaps or repeats). Lists ordered by commit (the ledger by
 * `seq`, the status log by `id`) must come out as exactly the final table; lists ordered by a
 * random key (stock, movements) must hold every row that existed before paging began, once, in
 * key order, and nothing that never existed.
 */

const LIMIT = 7;
/** Pages read while the writer runs; the rest are read after it stopped. */
const PAGES_UNDER_WRITES = 12;
const WAREHOUSES = Array.from({ length: 4 }, () => randomUUID());
const PRODUCTS = Array.from({ length: 10 }, () => randomUUID());

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
  // Enough rows in every list for more pages than are read under writes.
  for (let i = 0; i < 40; i++) await applyEnvelopes(api.database.url, batch());
});
afterAll(async () => {
  await api?.close();
});

/** Arrivals and departures on a few keys (new stock rows, changed ones, status changes, movements). */
function batch(): ReturnType<typeof envelope>[] {
  return Array.from({ length: 8 }, (_, i) =>
    envelope({
      warehouse_id: WAREHOUSES[i % WAREHOUSES.length],
      product_id: i % 3 === 0 ? randomUUID() : PRODUCTS[Math.floor(Math.random() * PRODUCTS.length)],
      event: i % 4 === 3 ? 'departure' : 'arrival',
      quantity: 1 + Math.floor(Math.random() * 15),
    }),
  );
}

/** Reads every page of `path`; a writer commits batches until PAGES_UNDER_WRITES pages were read. */
async function pageWhileWriting(path: string): Promise<Record<string, unknown>[]> {
  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      await applyEnvelopes(api.database.url, batch());
      written++;
    }
  })();
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  let pages = 0;
  try {
    do {
      const response = await api.get(`${path}${path.includes('?') ? '&' : '?'}limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      items.push(...response.body.items);
      cursor = response.body.nextCursor;
      if (++pages === PAGES_UNDER_WRITES) {
        writing = false;
        await writer;
        expect(written, 'batches committed while paging').toBeGreaterThan(0);
      }
    } while (cursor);
  } finally {
    writing = false;
    await writer;
  }
  expect(pages).toBeGreaterThan(PAGES_UNDER_WRITES);
  return items;
}

describe('paging while rows are committed', () => {
  it('GET /api/events: every ledger row once, in order of application', async () => {
    const items = await pageWhileWriting('/api/events');
    const { rows } = await api.database.pool.query<{ message_id: string }>('SELECT message_id FROM events ORDER BY seq');
    expect(items.map((e) => e.messageId)).toEqual(rows.map((r) => r.message_id));
  });

  it('GET /api/status-changes: every change once, in id order', async () => {
    const items = await pageWhileWriting('/api/status-changes');
    const { rows } = await api.database.pool.query<{ id: string }>('SELECT id FROM status_changes ORDER BY id');
    expect(items.map((c) => c.id)).toEqual(rows.map((r) => Number(r.id)));
  });

  it('GET /api/stock and /api/movements: every row that existed before, once, in key order', async () => {
    for (const { path, key, table } of [
      { path: '/api/stock', key: (i: Record<string, unknown>) => `${String(i.warehouseId)}/${String(i.productId)}`, table: "SELECT warehouse_id || '/' || product_id AS key FROM stock" },
      { path: '/api/movements', key: (i: Record<string, unknown>) => String(i.movementId), table: 'SELECT movement_id::text AS key FROM movements' },
    ]) {
      const before = (await api.database.pool.query<{ key: string }>(table)).rows.map((r) => r.key);
      const keys = (await pageWhileWriting(path)).map(key);
      const after = new Set((await api.database.pool.query<{ key: string }>(table)).rows.map((r) => r.key));
      expect(new Set(keys).size, `${path}: repeats`).toBe(keys.length);
      expect([...keys].sort(), `${path}: key order`).toEqual(keys);
      expect(before.filter((k) => !keys.includes(k)), `${path}: rows missed`).toEqual([]);
      expect(keys.filter((k) => !after.has(k)), `${path}: rows that do not exist`).toEqual([]);
    }
  });
});
