/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { stockStatusFor, type StockStatus } from '../../lib/terms.js';
import { Oracle } from '../../processor/__tests__/oracle.js';
import { generateStream } from '../../processor/__tests__/stream.js';
import { readAllPages, startApi, type ApiHarness } from './helpers.js';

/**
 * The history questions, answered against an oracle-built ledger: a seeded stream (supplies,
 * movements, losses, late arrivals, departures the stock cannot cover, producer duplicates,
 * duplicate movement events) written in six batches through the processor's real write path, and
 * the same stream applied one event at a time by the processor tests' oracle. Every list is read
 * page by page with small pages, in both directions, so every answer crosses page boundaries.
 */

interface LedgerRow {
  messageId: string;
  movementId: string;
  warehouseId: string;
  productId: string;
  event: string;
  quantity: number;
  eventTime: string;
  outcome: 'applied' | 'rejected';
  rejectReason: string | null;
  stockAfter: number;
  batch: number;
}

interface Change {
  warehouseId: string;
  productId: string;
  previousStatus: StockStatus;
  status: StockStatus;
  quantity: number;
  messageId: string;
  batch: number;
}

const LOW = 10;
// All applied in this order through one partition, so the oracle in stream order is the truth.
const stream = generateStream({ movements: 160, warehouses: 4, products: 5, seed: 12 }).map((message) => message.envelope);
// Six batches of uneven sizes, as a processor's flushes would cut them.
const cuts = [0, 31, 90, 160, 230, 300, stream.length];
const batches = cuts.slice(1).map((end, i) => stream.slice(cuts[i], end));

/** The ledger, status log and per-batch stock the oracle predicts, in order of application. */
function predict(): { ledger: LedgerRow[]; changes: Change[]; stockAfterBatch: Map<string, number>[] } {
  const oracle = new Oracle(LOW);
  const ledger: LedgerRow[] = [];
  const changes: Change[] = [];
  const stockAfterBatch: Map<string, number>[] = [];
  batches.forEach((batch, index) => {
    for (const envelope of batch) {
      if (oracle.ledger.has(envelope.id)) continue; // a redelivery: no ledger row
      const d = envelope.data;
      const key = `${d.warehouse_id}/${d.product_id}`;
      const before = oracle.stock.get(key)?.quantity ?? 0;
      const outcome = oracle.apply(envelope)!.outcome;
      const after = oracle.stock.get(key)?.quantity ?? 0;
      ledger.push({
        messageId: envelope.id,
        movementId: d.movement_id,
        warehouseId: d.warehouse_id,
        productId: d.product_id,
        event: d.event,
        quantity: d.quantity,
        eventTime: new Date(d.timestamp).toISOString(),
        outcome: outcome === 'applied' ? 'applied' : 'rejected',
        rejectReason: outcome === 'applied' ? null : outcome,
        stockAfter: after,
        batch: index,
      });
      const [previousStatus, status] = [stockStatusFor(before, LOW), stockStatusFor(after, LOW)];
      if (previousStatus !== status) changes.push({ warehouseId: d.warehouse_id, productId: d.product_id, previousStatus, status, quantity: after, messageId: envelope.id, batch: index });
    }
    stockAfterBatch.push(new Map([...oracle.stock].map(([key, stock]) => [key, stock.quantity])));
  });
  return { ledger, changes, stockAfterBatch };
}

const { ledger, changes, stockAfterBatch } = predict();
/** Instants strictly between batches: boundaries[k] is after batch k-1 committed and before batch k began. */
const boundaries: string[] = [];
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
  for (const batch of batches) {
    boundaries.push(await separatedInstant());
    await applyEnvelopes(api.database.url, batch, { lowThreshold: LOW });
  }
  boundaries.push(await separatedInstant());
});

afterAll(async () => {
  await api?.close();
});

/** An instant that differs from every received_at around it: a millisecond passes on each side. */
async function separatedInstant(): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  const now = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  return now;
}

const pick = (row: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));
const HISTORY_FIELDS = ['messageId', 'movementId', 'event', 'quantity', 'eventTime', 'outcome', 'rejectReason', 'stockAfter'] as const;
const keysOf = (rows: LedgerRow[]) => [...new Set(rows.map((r) => `${r.warehouseId}/${r.productId}`))];
const byEventTime = (a: LedgerRow, b: LedgerRow) => a.eventTime.localeCompare(b.eventTime) || ledger.indexOf(a) - ledger.indexOf(b);

describe('the oracle stream', () => {
  it('has what the history questions need: rejections, several batches per pair, status changes', () => {
    expect(ledger.some((r) => r.rejectReason === 'insufficient_stock')).toBe(true);
    expect(ledger.some((r) => r.rejectReason === 'duplicate_movement_event')).toBe(true);
    expect(ledger.length).toBeLessThan(stream.length); // producer duplicates left no row
    expect(changes.length).toBeGreaterThan(20);
  });

  it('is what the processor wrote: the whole ledger in order of application', async () => {
    const { items } = await readAllPages(api, '/api/events', 37);
    expect(items.map((e) => pick(e, HISTORY_FIELDS))).toEqual(ledger.map((r) => pick(r as unknown as Record<string, unknown>, HISTORY_FIELDS)));
  });
});

describe('GET /api/events?movementId=', () => {
  it("lists each movement's ledger rows, its rejected duplicate sides and departures the stock could not cover included", async () => {
    const movements = [...new Set(ledger.map((r) => r.movementId))];
    const withDuplicate = new Set(ledger.filter((r) => r.rejectReason === 'duplicate_movement_event').map((r) => r.movementId));
    const withUncovered = new Set(ledger.filter((r) => r.rejectReason === 'insufficient_stock').map((r) => r.movementId));
    expect(withDuplicate.size).toBeGreaterThan(0);
    expect(withUncovered.size).toBeGreaterThan(0);
    for (const movementId of movements) {
      const expected = ledger.filter((r) => r.movementId === movementId).map((r) => pick(r as unknown as Record<string, unknown>, HISTORY_FIELDS));
      const { items } = await readAllPages(api, `/api/events?movementId=${movementId}`, 1);
      expect(items.map((e) => pick(e, HISTORY_FIELDS)), movementId).toEqual(expected);
    }
  });
});

describe('GET /api/warehouses/{w}/products/{p}/history', () => {
  it('lists every pair\'s ledger rows newest first, and oldest first with order=asc, across pages', async () => {
    for (const key of keysOf(ledger)) {
      const expected = ledger.filter((r) => `${r.warehouseId}/${r.productId}` === key).map((r) => pick(r as unknown as Record<string, unknown>, HISTORY_FIELDS));
      const desc = await readAllPages(api, `/api/warehouses/${key.replace('/', '/products/')}/history`, 3);
      expect(desc.items.map((e) => pick(e, HISTORY_FIELDS)), key).toEqual([...expected].reverse());
      const seqs = desc.items.map((e) => e.seq as number);
      expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
      const asc = await readAllPages(api, `/api/warehouses/${key.replace('/', '/products/')}/history?order=asc`, 4);
      expect(asc.items.map((e) => pick(e, HISTORY_FIELDS)), key).toEqual(expected);
    }
  });

  it('filters on the event time, half-open', async () => {
    const times = [...new Set(ledger.map((r) => r.eventTime))].sort();
    const since = times[Math.floor(times.length / 4)]!;
    const until = times[Math.floor((times.length * 3) / 4)]!;
    for (const key of keysOf(ledger).slice(0, 6)) {
      const expected = ledger
        .filter((r) => `${r.warehouseId}/${r.productId}` === key && r.eventTime >= since && r.eventTime < until)
        .map((r) => r.messageId)
        .reverse();
      const { items } = await readAllPages(api, `/api/warehouses/${key.replace('/', '/products/')}/history?since=${since}&until=${until}`, 2);
      expect(items.map((e) => e.messageId), key).toEqual(expected);
    }
  });

  it('answers an empty page for a pair never seen', async () => {
    const response = await api.get('/api/warehouses/00000000-0000-4000-a000-000000000001/products/00000000-0000-4000-a000-000000000002/history');
    expect(response.body).toEqual({ items: [], nextCursor: null });
  });
});

describe('GET /api/warehouses/{w}/products/{p}?asOf=', () => {
  it('answers the stock after the last event applied at or before the instant, between every pair of batches', async () => {
    for (const key of keysOf(ledger)) {
      const [warehouseId, productId] = key.split('/') as [string, string];
      for (let k = 0; k < boundaries.length; k++) {
        const response = await api.get(`/api/warehouses/${warehouseId}/products/${productId}?asOf=${boundaries[k]}`);
        expect(response.status).toBe(200);
        // boundaries[k] falls after batch k-1: the oracle's stock then.
        const applied = ledger.some((r) => `${r.warehouseId}/${r.productId}` === key && r.outcome === 'applied' && r.batch < k);
        if (!applied) {
          expect(response.body, `${key} at boundary ${k}`).toEqual({ warehouseId, productId, quantity: 0, status: 'out_of_stock', updatedAt: null, lastMessageId: null });
          continue;
        }
        const quantity = stockAfterBatch[k - 1]!.get(key) ?? 0;
        const last = ledger.filter((r) => `${r.warehouseId}/${r.productId}` === key && r.outcome === 'applied' && r.batch < k).at(-1)!;
        expect(response.body, `${key} at boundary ${k}`).toMatchObject({ quantity, status: stockStatusFor(quantity, LOW), lastMessageId: last.messageId });
        expect(response.body.updatedAt < boundaries[k]!).toBe(true);
        expect(response.body.updatedAt > boundaries[last.batch]!).toBe(true);
      }
    }
  });

  it('answers the current stock for an instant after the last batch', async () => {
    const key = keysOf(ledger)[0]!;
    const path = `/api/warehouses/${key.replace('/', '/products/')}`;
    const now = (await api.get(path)).body;
    expect((await api.get(`${path}?asOf=${boundaries.at(-1)}`)).body).toEqual(now);
  });
});

describe('GET /api/events in time order and newest first', () => {
  it('pages newest first by seq', async () => {
    const { items } = await readAllPages(api, '/api/events?order=desc', 29);
    expect(items.map((e) => e.messageId)).toEqual(ledger.map((r) => r.messageId).reverse());
  });

  it('lists by event time within [since, until), both ways, with filters', async () => {
    const times = [...new Set(ledger.map((r) => r.eventTime))].sort();
    const since = times[10]!;
    const until = times[times.length - 10]!;
    const expected = ledger.filter((r) => r.eventTime >= since && r.eventTime < until).sort(byEventTime).map((r) => r.messageId);
    const asc = await readAllPages(api, `/api/events?since=${since}&until=${until}`, 13);
    expect(asc.items.map((e) => e.messageId)).toEqual(expected);
    const desc = await readAllPages(api, `/api/events?since=${since}&until=${until}&order=desc`, 11);
    expect(desc.items.map((e) => e.messageId)).toEqual([...expected].reverse());
    const warehouse = ledger[0]!.warehouseId;
    const departures = await readAllPages(api, `/api/events?since=${since}&warehouseId=${warehouse}&event=departure&order=desc`, 3);
    expect(departures.items.map((e) => e.messageId)).toEqual(
      ledger.filter((r) => r.eventTime >= since && r.warehouseId === warehouse && r.event === 'departure').sort(byEventTime).map((r) => r.messageId).reverse(),
    );
  });

  it('lists by the time received within [receivedSince, receivedUntil), both ways', async () => {
    for (const [from, to] of [[1, 4], [0, 6], [3, 4]] as const) {
      const expected = ledger.filter((r) => r.batch >= from && r.batch < to).map((r) => r.messageId);
      const window = `receivedSince=${boundaries[from]}&receivedUntil=${boundaries[to]}`;
      const asc = await readAllPages(api, `/api/events?${window}`, 17);
      expect(asc.items.map((e) => e.messageId)).toEqual(expected);
      const desc = await readAllPages(api, `/api/events?${window}&order=desc`, 17);
      expect(desc.items.map((e) => e.messageId)).toEqual([...expected].reverse());
    }
    const rejected = await readAllPages(api, `/api/events?receivedSince=${boundaries[2]}&outcome=rejected`, 2);
    expect(rejected.items.map((e) => e.messageId)).toEqual(ledger.filter((r) => r.batch >= 2 && r.outcome === 'rejected').map((r) => r.messageId));
  });

  it('refuses two time ranges at once, and a range that ends before it starts', async () => {
    const both = await api.get(`/api/events?since=${boundaries[0]}&receivedSince=${boundaries[1]}`);
    expect(both.status).toBe(400);
    expect(both.body.invalidParams).toContainEqual(expect.objectContaining({ name: 'receivedSince', reason: expect.stringContaining('cannot be combined') }));
    expect((await api.get(`/api/events?receivedSince=${boundaries[2]}&receivedUntil=${boundaries[1]}`)).status).toBe(400);
  });

  it('refuses a cursor of another order or direction', async () => {
    const page = await api.get('/api/events?order=desc&limit=2');
    const cursor = page.body.nextCursor as string;
    expect((await api.get(`/api/events?order=desc&limit=2&cursor=${cursor}`)).status).toBe(200);
    expect((await api.get(`/api/events?limit=2&cursor=${cursor}`)).status).toBe(400);
    expect((await api.get(`/api/events?since=${boundaries[0]}&order=desc&limit=2&cursor=${cursor}`)).status).toBe(400);
  });

  it('never repeats or skips a row when batches commit while a client pages, either way', async () => {
    const extra = generateStream({ movements: 6, warehouses: 2, products: 2, seed: 99 }).map((message) => message.envelope);
    for (const [order, commit] of [['asc', extra.slice(0, 10)], ['desc', extra.slice(10)]] as const) {
      const before = (await readAllPages(api, '/api/events', 500)).items.map((e) => e.messageId as string);
      const ids: string[] = [];
      let cursor: string | null = null;
      let page = 0;
      do {
        const response = await api.get(`/api/events?order=${order}&limit=40${cursor ? `&cursor=${cursor}` : ''}`);
        ids.push(...(response.body.items as { messageId: string }[]).map((e) => e.messageId));
        cursor = response.body.nextCursor;
        if (++page === 2) await applyEnvelopes(api.database.url, commit, { lowThreshold: LOW });
      } while (cursor);
      const after = (await readAllPages(api, '/api/events', 500)).items.map((e) => e.messageId as string);
      expect(after.length).toBeGreaterThan(before.length);
      // Ascending reaches the rows committed behind its cursor; descending pages away from them.
      expect(ids).toEqual(order === 'asc' ? after : [...before].reverse());
    }
  });
});

describe('GET /api/status-changes by time and status', () => {
  it('lists the changes of a window of batches in commit order, both ways, with a status filter', async () => {
    const window = `since=${boundaries[2]}&until=${boundaries[5]}`;
    const expected = changes.filter((c) => c.batch >= 2 && c.batch < 5);
    const fields = ['warehouseId', 'productId', 'previousStatus', 'status', 'quantity', 'messageId'] as const;
    const asc = await readAllPages(api, `/api/status-changes?${window}`, 6);
    expect(asc.items.map((c) => pick(c, fields))).toEqual(expected.map((c) => pick(c as unknown as Record<string, unknown>, fields)));
    const low = await readAllPages(api, `/api/status-changes?${window}&status=low&order=desc`, 2);
    expect(low.items.map((c) => c.messageId)).toEqual(expected.filter((c) => c.status === 'low').map((c) => c.messageId).reverse());
    const product = expected[0]!.productId;
    const byProduct = await readAllPages(api, `/api/status-changes?productId=${product}&order=desc`, 3);
    expect(byProduct.items.map((c) => c.messageId)).toEqual(changes.filter((c) => c.productId === product).map((c) => c.messageId).reverse());
  });
});

describe('GET /api/movements by time', () => {
  it('lists the movements of [since, until) by their time (departure, else arrival), across pages', async () => {
    const sides = new Map<string, { departure?: string; arrival?: string }>();
    for (const row of ledger) {
      if (row.rejectReason === 'duplicate_movement_event') continue; // not part of its movement
      const side = sides.get(row.movementId) ?? {};
      side[row.event as 'departure' | 'arrival'] ??= row.eventTime;
      sides.set(row.movementId, side);
    }
    const all = [...sides].map(([id, side]) => [id, (side.departure ?? side.arrival)!] as const).sort(([a, ta], [b, tb]) => ta.localeCompare(tb) || a.localeCompare(b));
    const since = all[20]![1];
    const until = all[all.length - 20]![1];
    const expected = all.filter(([, t]) => t >= since && t < until).map(([id]) => id);
    const { items } = await readAllPages(api, `/api/movements?since=${since}&until=${until}`, 9);
    expect(items.map((m) => m.movementId)).toEqual(expected);
    const inTransit = await readAllPages(api, `/api/movements?since=${since}&state=in_transit`, 4);
    expect(inTransit.items.every((m) => m.state === 'in_transit')).toBe(true);
  });
});
