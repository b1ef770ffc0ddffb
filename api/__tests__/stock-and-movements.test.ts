/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../lib/event.js';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { readAllPages, startApi, type ApiHarness } from './helpers.js';

/** Reads through the real HTTP server over what the processor's write path stored. */

const W1 = randomUUID();
const W2 = randomUUID();
const W3 = randomUUID();
const P1 = randomUUID();
const M0 = randomUUID();
const M1 = randomUUID();
const M2 = randomUUID();
const M3 = randomUUID();
const BULK = 37;

let api: ApiHarness;
const bulk: Envelope[] = [];

beforeAll(async () => {
  api = await startApi();
  const url = api.database.url;
  // Batch 1: W1 receives 150 of P1 without a known departure (M0: arrived).
  await applyEnvelopes(url, [envelope({ movement_id: M0, warehouse_id: W1, product_id: P1, event: 'arrival', quantity: 150, timestamp: '2025-02-18T08:00:00Z' })]);
  // Batch 2: the seeds' example, M1: 100 leave W1, 95 arrive at W2 4h34m56s later.
  await applyEnvelopes(url, [
    envelope({ movement_id: M1, warehouse_id: W1, product_id: P1, event: 'departure', quantity: 100, timestamp: '2025-02-18T10:00:00Z' }),
    envelope({ movement_id: M1, warehouse_id: W2, product_id: P1, event: 'arrival', quantity: 95, timestamp: '2025-02-18T14:34:56Z' }),
  ]);
  // Batch 3: M2 wants 100 from W1, which has 50: rejected for stock, but the goods are in transit.
  // M3 departs W2 with 90 (W2 falls to 5: low).
  await applyEnvelopes(url, [
    envelope({ movement_id: M2, warehouse_id: W1, product_id: P1, event: 'departure', quantity: 100, timestamp: '2025-02-19T09:00:00Z' }),
    envelope({ movement_id: M3, warehouse_id: W2, product_id: P1, event: 'departure', quantity: 90, timestamp: '2025-02-20T09:00:00Z' }),
  ]);
  // Batch 4: W3 receives BULK products, quantities 1..BULK (1..10 are low).
  for (let i = 1; i <= BULK; i++) bulk.push(envelope({ warehouse_id: W3, event: 'arrival', quantity: i, timestamp: '2025-03-01T00:00:00Z' }));
  await applyEnvelopes(url, bulk);
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/warehouses/{warehouseId}/products/{productId}', () => {
  it('answers the current stock', async () => {
    const response = await api.get(`/api/warehouses/${W1}/products/${P1}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ warehouseId: W1, productId: P1, quantity: 50, status: 'available' });
    expect(Date.parse(response.body.updatedAt)).not.toBeNaN();
    expect((await api.get(`/api/warehouses/${W2}/products/${P1}`)).body).toMatchObject({ quantity: 5, status: 'low' });
  });

  it('answers quantity 0, out_of_stock and no update time for a pair never seen', async () => {
    const warehouse = randomUUID();
    const response = await api.get(`/api/warehouses/${warehouse}/products/${P1}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ warehouseId: warehouse, productId: P1, quantity: 0, status: 'out_of_stock', updatedAt: null, lastMessageId: null });
  });

  it('accepts upper-case UUIDs and answers in the canonical lower case', async () => {
    const response = await api.get(`/api/warehouses/${W1.toUpperCase()}/products/${P1.toUpperCase()}`);
    expect(response.body).toMatchObject({ warehouseId: W1, productId: P1, quantity: 50 });
  });
});

describe('GET /api/movements/{movementId}', () => {
  it('joins a completed movement: difference 5, transit from the two timestamps', async () => {
    const response = await api.get(`/api/movements/${M1}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      movementId: M1,
      productId: P1,
      departureProductId: P1,
      arrivalProductId: P1,
      productMismatch: false,
      state: 'completed',
      departure: { warehouseId: W1, departedAt: '2025-02-18T10:00:00.000Z', quantitySent: 100, stock: { outcome: 'applied', rejectReason: null } },
      arrival: { warehouseId: W2, arrivedAt: '2025-02-18T14:34:56.000Z', quantityReceived: 95, stock: { outcome: 'applied', rejectReason: null } },
      quantitySent: 100,
      quantityReceived: 95,
      quantityDifference: 5,
      transitSeconds: 4 * 3600 + 34 * 60 + 56,
      transitDuration: 'PT4H34M56S',
    });
  });

  it('shows an arrival without a known departure as arrived', async () => {
    const body = (await api.get(`/api/movements/${M0}`)).body;
    expect(body).toMatchObject({ state: 'arrived', departure: null, arrival: { warehouseId: W1, quantityReceived: 150 }, quantityDifference: null, transitSeconds: null, transitDuration: null });
  });

  it('shows a departure without arrival as in_transit, with its stock rejection', async () => {
    const body = (await api.get(`/api/movements/${M2}`)).body;
    expect(body).toMatchObject({
      state: 'in_transit',
      arrival: null,
      departure: { warehouseId: W1, quantitySent: 100, stock: { outcome: 'rejected', rejectReason: 'insufficient_stock' } },
      quantityReceived: null,
      quantityDifference: null,
    });
  });

  it('answers 404 problem+json for an unknown movement', async () => {
    const response = await api.get(`/api/movements/${randomUUID()}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 404, title: 'Not Found' });
  });
});

describe('stock lists', () => {
  it('pages through a warehouse without gaps or repeats, and filters by status', async () => {
    const { items, pages } = await readAllPages(api, `/api/warehouses/${W3}/products`, 7);
    expect(pages).toBe(Math.ceil(BULK / 7));
    expect(new Set(items.map((i) => i.productId)).size).toBe(BULK);
    expect(new Set(items.map((i) => i.productId))).toEqual(new Set(bulk.map((e) => e.data.product_id)));
    const low = await readAllPages(api, `/api/warehouses/${W3}/products?status=low`, 3);
    expect(low.items.map((i) => i.quantity).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('lists a product across warehouses with the total', async () => {
    const response = await api.get(`/api/products/${P1}/warehouses?limit=1`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ productId: P1, totalQuantity: 55, warehouseCount: 2 });
    expect(response.body.items).toHaveLength(1);
    const all = await readAllPages(api, `/api/products/${P1}/warehouses`, 1);
    expect(all.items.map((i) => i.warehouseId).sort()).toEqual([W1, W2].sort());
  });

  it('lists all stock, with a quantity range only within low or out-of-stock rows', async () => {
    const all = await readAllPages(api, '/api/stock', 10);
    expect(all.items).toHaveLength(BULK + 2);
    const keys = all.items.map((i) => `${i.warehouseId}/${i.productId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(keys); // primary-key order
    const low = await readAllPages(api, '/api/stock?status=low&minQuantity=5&maxQuantity=12', 4);
    expect(low.items.map((i) => i.quantity).sort((a, b) => a - b)).toEqual([5, 5, 6, 7, 8, 9, 10]);
    expect((await readAllPages(api, '/api/stock?status=out_of_stock&maxQuantity=0', 4)).items).toEqual([]);
    // Over every row no index serves a quantity range: refused, naming where to ask instead.
    for (const query of ['minQuantity=30', 'status=available&maxQuantity=12']) {
      const refused = await api.get(`/api/stock?${query}`);
      expect(refused.status, query).toBe(400);
      expect(refused.body.detail).toContain('/api/warehouses/{warehouseId}/products');
    }
  });

  it('filters a warehouse\'s and a product\'s rows by quantity range', async () => {
    const range = await readAllPages(api, `/api/warehouses/${W3}/products?minQuantity=5&maxQuantity=12`, 4);
    expect(range.items.map((i) => i.quantity).sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    const available = await readAllPages(api, `/api/warehouses/${W3}/products?status=available&minQuantity=30`, 3);
    expect(available.items.map((i) => i.quantity).sort((a, b) => a - b)).toEqual([30, 31, 32, 33, 34, 35, 36, 37]);
    const product = await api.get(`/api/products/${P1}/warehouses?minQuantity=6`);
    expect(product.body).toMatchObject({ totalQuantity: 55, warehouseCount: 2 }); // totals count every warehouse
    expect((product.body.items as { warehouseId: string }[]).map((i) => i.warehouseId)).toEqual([W1]);
    expect((await api.get(`/api/products/${P1}/warehouses?minQuantity=6&maxQuantity=2`)).status).toBe(400);
  });
});

describe('GET /api/movements', () => {
  it('filters by warehouse on either side, product, state and time', async () => {
    const w1 = await readAllPages(api, `/api/movements?warehouseId=${W1}`, 2);
    expect(w1.items.map((m) => m.movementId).sort()).toEqual([M0, M1, M2].sort());
    const w2 = await readAllPages(api, `/api/movements?warehouseId=${W2}`, 2);
    expect(w2.items.map((m) => m.movementId).sort()).toEqual([M1, M3].sort());
    const product = await readAllPages(api, `/api/movements?productId=${P1}`, 50);
    expect(product.items).toHaveLength(4);
    const inTransit = await readAllPages(api, `/api/movements?productId=${P1}&state=in_transit`, 50);
    expect(inTransit.items.map((m) => m.movementId).sort()).toEqual([M2, M3].sort());
    expect((await readAllPages(api, `/api/movements?productId=${P1}&state=completed`, 50)).items.map((m) => m.movementId)).toEqual([M1]);
    expect((await readAllPages(api, `/api/movements?productId=${P1}&state=arrived`, 50)).items.map((m) => m.movementId)).toEqual([M0]);
    // Time of a movement: its departure, else its arrival; [since, until).
    const window = await readAllPages(api, `/api/movements?productId=${P1}&since=2025-02-18T08:00:00Z&until=2025-02-19T09:00:00Z`, 50);
    expect(window.items.map((m) => m.movementId).sort()).toEqual([M0, M1].sort());
  });

  it('pages through every movement without gaps or repeats', async () => {
    const { items } = await readAllPages(api, '/api/movements', 6);
    const ids = items.map((m) => m.movementId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(4 + BULK);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('GET /api/events', () => {
  it('pages through the ledger in order of application, without gaps or repeats', async () => {
    const { items } = await readAllPages(api, '/api/events', 8);
    expect(items).toHaveLength(5 + BULK);
    const seqs = items.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(items[0]).toMatchObject({ movementId: M0, event: 'arrival', quantity: 150, outcome: 'applied', stockAfter: 150 });
  });

  it('filters by movement, warehouse, product, outcome and reject reason', async () => {
    expect((await readAllPages(api, `/api/events?movementId=${M1}`, 50)).items.map((e) => e.event).sort()).toEqual(['arrival', 'departure']);
    expect((await readAllPages(api, `/api/events?warehouseId=${W2}`, 1)).items).toHaveLength(2);
    expect((await readAllPages(api, `/api/events?productId=${P1}`, 2)).items).toHaveLength(5);
    const rejected = await readAllPages(api, '/api/events?outcome=rejected', 50);
    expect(rejected.items.map((e) => e.movementId)).toEqual([M2]);
    expect((await readAllPages(api, '/api/events?rejectReason=insufficient_stock', 50)).items.map((e) => e.movementId)).toEqual([M2]);
    expect((await readAllPages(api, '/api/events?rejectReason=duplicate_movement_event', 50)).items).toEqual([]);
    expect((await readAllPages(api, '/api/events?outcome=applied&rejectReason=insufficient_stock', 50)).items).toEqual([]);
    expect((await readAllPages(api, `/api/events?warehouseId=${W1}&event=departure`, 50)).items).toHaveLength(2);
  });
});

describe('GET /api/status-changes and /api/stats', () => {
  it('lists status changes with filters', async () => {
    const { items } = await readAllPages(api, `/api/status-changes?warehouseId=${W2}`, 1);
    // W2/P1: out_of_stock -> available (95), then available -> low (5).
    expect(items.map((c) => [c.previousStatus, c.status, c.quantity])).toEqual([
      ['out_of_stock', 'available', 95],
      ['available', 'low', 5],
    ]);
    const low = await readAllPages(api, '/api/status-changes?status=low', 4);
    expect(low.items).toHaveLength(11); // 10 bulk rows arrive low, W2 falls to low
    const all = await readAllPages(api, '/api/status-changes', 5);
    const ids = all.items.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('lists status changes newest first with order=desc, paging without gaps, and refuses a cursor of the other order', async () => {
    const ascending = (await readAllPages(api, '/api/status-changes', 500)).items.map((c) => c.id);
    const descending = await readAllPages(api, '/api/status-changes?order=desc', 4);
    expect(descending.items.map((c) => c.id)).toEqual([...ascending].reverse());
    expect(descending.pages).toBe(Math.ceil(ascending.length / 4));
    const latest = await api.get(`/api/status-changes?order=desc&limit=1&warehouseId=${W2}`);
    expect((latest.body.items as { status: string }[]).map((c) => c.status)).toEqual(['low']);
    const firstPage = await api.get('/api/status-changes?limit=2');
    const wrongWay = await api.get(`/api/status-changes?order=desc&cursor=${firstPage.body.nextCursor}`);
    expect(wrongWay.status).toBe(400);
    expect(wrongWay.body.invalidParams).toEqual([expect.objectContaining({ name: 'cursor' })]);
  });

  it('answers totals', async () => {
    const response = await api.get('/api/stats');
    expect(response.status).toBe(200);
    const changes = (await readAllPages(api, '/api/status-changes', 500)).items.length;
    expect(response.body).toMatchObject({
      events: { total: 5 + BULK, applied: 4 + BULK, rejected: 1, rejectedByReason: { insufficient_stock: 1, duplicate_movement_event: 0 } },
      deadLetters: { total: 0, byReason: {} },
      stockRows: BULK + 2,
      // W1/P1 50 and W3's 11..BULK are available; W2/P1 (5) and W3's 1..10 are low.
      stockRowsByStatus: { available: 1 + (BULK - 10), low: 11, out_of_stock: 0 },
      movementsInTransit: 2, // M2 (its departure rejected for stock, the goods still left) and M3
      warehouses: 3,
      products: BULK + 1,
      statusChanges: changes,
      statusChangesToday: changes,
      lastEventTime: '2025-03-01T00:00:00.000Z',
    });
  });
});
