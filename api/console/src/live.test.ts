import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StatusChange } from './api-types.js';
import { FEED_SIZE, StatusChangeFeed, type FeedSnapshot } from './live.js';

/**
 * The feed's own rules with a scripted EventSource and fetch (fake timers): where it resumes from,
 * what it drops, how it retries. The browser test (api/__tests__/browser/) runs it for real.
 */

class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }
  open(): void {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }
  send(change: StatusChange): void {
    this.onmessage?.({ data: JSON.stringify(change) });
  }
  /** `gaveUp`: the browser will not retry (an error status); else it reconnects by itself. */
  fail(gaveUp: boolean): void {
    this.readyState = gaveUp ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.onerror?.();
  }
  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }
}

const change = (id: number): StatusChange => ({
  id,
  warehouseId: '00000000-0000-0000-0000-000000000001',
  productId: '00000000-0000-0000-0000-000000000002',
  previousStatus: 'available',
  status: 'low',
  quantity: 3,
  messageId: '00000000-0000-0000-0000-000000000003',
  changedAt: '2025-02-18T14:34:56.000Z',
});

let opening: () => Promise<Response>;

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.opened = [];
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal('addEventListener', () => undefined);
  opening = () => Promise.resolve(new Response(JSON.stringify({ items: [change(7), change(5)], nextCursor: null }), { status: 200 }));
  vi.stubGlobal('fetch', () => opening());
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

async function started(): Promise<{ feed: StatusChangeFeed; snapshots: FeedSnapshot[]; bursts: StatusChange[][]; source: () => FakeEventSource }> {
  const feed = new StatusChangeFeed();
  const snapshots: FeedSnapshot[] = [];
  const bursts: StatusChange[][] = [];
  feed.subscribe((snapshot, fresh) => {
    snapshots.push(snapshot);
    if (fresh.length) bursts.push([...fresh]);
  });
  await vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(1));
  return { feed, snapshots, bursts, source: () => FakeEventSource.opened[FakeEventSource.opened.length - 1]! };
}

describe('the live status feed', () => {
  it('opens with the latest changes and streams from the newest of them', async () => {
    const { snapshots, source } = await started();
    expect(source().url).toBe('/api/status-changes/stream?lastEventId=7');
    expect(snapshots.at(-1)?.changes.map((c) => c.id)).toEqual([7, 5]);
    expect(snapshots.at(-1)?.history).toBe(true);
    source().open();
    expect(snapshots.at(-1)?.state).toBe('live');
  });

  it('streams from now when the opening read fails', async () => {
    opening = () => Promise.resolve(new Response('{}', { status: 503 }));
    const { snapshots, source } = await started();
    expect(source().url).toBe('/api/status-changes/stream');
    expect(snapshots.at(-1)?.history).toBe(false);
  });

  it('drops replays, and tells a burst at once, newest first', async () => {
    const { snapshots, bursts, source } = await started();
    source().open();
    for (const id of [6, 7, 8, 9, 8]) source().send(change(id));
    expect(bursts).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(bursts.map((burst) => burst.map((c) => c.id))).toEqual([[9, 8]]);
    expect(snapshots.at(-1)?.changes.map((c) => c.id)).toEqual([9, 8, 7, 5]);
  });

  it(`keeps the newest ${FEED_SIZE}`, async () => {
    const { snapshots, source } = await started();
    for (let id = 8; id < 8 + FEED_SIZE + 10; id++) source().send(change(id));
    await vi.advanceTimersByTimeAsync(100);
    const ids = snapshots.at(-1)!.changes.map((c) => c.id);
    expect(ids).toHaveLength(FEED_SIZE);
    expect(ids[0]).toBe(7 + FEED_SIZE + 10);
  });

  it('leaves a reconnect to the browser while it retries, and retries itself from the last id when it gave up, backing off to 15 s', async () => {
    const { snapshots, source } = await started();
    source().open();
    source().send(change(12));
    await vi.advanceTimersByTimeAsync(100);

    source().fail(false);
    expect(snapshots.at(-1)?.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.opened).toHaveLength(1);

    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const before = FakeEventSource.opened.length;
      source().fail(true);
      let waited = 0;
      while (FakeEventSource.opened.length === before) {
        await vi.advanceTimersByTimeAsync(500);
        waited += 500;
      }
      delays.push(waited);
      expect(source().url).toBe('/api/status-changes/stream?lastEventId=12');
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000]);
    source().open();
    expect(snapshots.at(-1)?.state).toBe('live');
    expect(snapshots.at(-1)?.lostAt).toBeUndefined();
    // Back to the shortest delay once connected.
    const before = FakeEventSource.opened.length;
    source().fail(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.opened.length).toBe(before + 1);
  });
});
