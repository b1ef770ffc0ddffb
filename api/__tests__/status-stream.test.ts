import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { statusChangeSchema } from '../schemas/resources.js';
import { startApi, type ApiHarness } from './helpers.js';
import { SseClient } from './sse-client.js';

/** The live stream: changes committed by the processor's write path reach subscribers, and resume loses nothing. */

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ heartbeatMs: 100 });
});
afterAll(async () => {
  await api?.close();
});

const streamUrl = () => `${api.baseUrl}/api/status-changes/stream`;

/** One arrival into a fresh (warehouse, product): exactly one status change, out_of_stock -> available. */
const arrival = (warehouseId = randomUUID()) => envelope({ warehouse_id: warehouseId, event: 'arrival', quantity: 50 });

/** The waits of these tests: subscriber counts (200 polls of 25 ms) and SseClient.until's default. */
const SUBSCRIBE_WAIT_MS = 5_000;
const SSE_WAIT_MS = 15_000;

async function waitForSubscribers(count: number): Promise<void> {
  for (let i = 0; i < SUBSCRIBE_WAIT_MS / 25 && api.hub.size !== count; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(api.hub.size).toBe(count);
}

describe('GET /api/status-changes/stream', () => {
  it('delivers a status change committed by the processor, with heartbeats', async () => {
    const client = new SseClient(streamUrl());
    await client.open();
    try {
      expect(client.status).toBe(200);
      await waitForSubscribers(1);
      const event = arrival();
      const committedAt = performance.now();
      await applyEnvelopes(api.database.url, [event]);
      await client.until(() => client.events.length >= 1, 'the status change');
      // Reported, not asserted (no timed assertions): the design's target is under one second.
      console.log(`status change delivered ${Math.round(performance.now() - committedAt)} ms after applyEnvelopes returned`);
      const change = statusChangeSchema.parse(JSON.parse(client.events[0]!.data));
      expect(change).toMatchObject({ warehouseId: event.data.warehouse_id, productId: event.data.product_id, previousStatus: 'out_of_stock', status: 'available', quantity: 50, messageId: event.id });
      expect(client.events[0]!.id).toBe(String(change.id));
      await client.until(() => client.comments.includes('heartbeat'), 'a heartbeat');
    } finally {
      await client.close();
    }
    await waitForSubscribers(0);
  });

  it('resumes from Last-Event-ID without loss, then continues live', async () => {
    const first = new SseClient(streamUrl());
    await first.open();
    await waitForSubscribers(1);
    await applyEnvelopes(api.database.url, [arrival(), arrival()]);
    await first.until(() => first.events.length >= 2, 'two changes');
    const lastSeen = first.ids().at(-1)!;
    await first.close();
    await waitForSubscribers(0);

    // While nobody listens: three batches, five changes.
    await applyEnvelopes(api.database.url, [arrival(), arrival()]);
    await applyEnvelopes(api.database.url, [arrival()]);
    await applyEnvelopes(api.database.url, [arrival(), arrival()]);
    const missed = (await api.db.statusChange.findMany({ where: { id: { gt: BigInt(lastSeen) } }, orderBy: { id: 'asc' } })).map((c) => Number(c.id));
    expect(missed).toHaveLength(5);

    const resumed = new SseClient(streamUrl(), { 'Last-Event-ID': String(lastSeen) });
    await resumed.open();
    try {
      await resumed.until(() => resumed.events.length >= 5, 'the backlog');
      expect(resumed.ids()).toEqual(missed);
      await waitForSubscribers(1);
      await applyEnvelopes(api.database.url, [arrival()]);
      await resumed.until(() => resumed.events.length >= 6, 'a live change after the backlog');
      const ids = resumed.ids();
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids[5]).toBeGreaterThan(ids[4]!);
    } finally {
      await resumed.close();
    }
  }, 3 * (SUBSCRIBE_WAIT_MS + SSE_WAIT_MS) + 30_000);

  it('resumes from the lastEventId query parameter, and delivers a burst in order to several subscribers', async () => {
    const start = Number((await api.db.statusChange.aggregate({ _max: { id: true } }))._max.id ?? 0n);
    const a = new SseClient(`${streamUrl()}?lastEventId=${start}`);
    const b = new SseClient(streamUrl());
    await a.open();
    await b.open();
    try {
      await waitForSubscribers(2);
      const burst = Array.from({ length: 40 }, () => arrival());
      await applyEnvelopes(api.database.url, burst.slice(0, 25));
      await applyEnvelopes(api.database.url, burst.slice(25));
      await a.until(() => a.events.length >= 40, '40 changes on a');
      await b.until(() => b.events.length >= 40, '40 changes on b');
      const expected = (await api.db.statusChange.findMany({ where: { id: { gt: BigInt(start) } }, orderBy: { id: 'asc' } })).map((c) => Number(c.id));
      expect(a.ids()).toEqual(expected);
      expect(b.ids()).toEqual(expected);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
