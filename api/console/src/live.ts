import { api, statusStreamUrl } from './api.js';
import type { StatusChange } from './api-types.js';

/**
 * The live feed of stock status changes: one Server-Sent Events connection per page, shared by
 * every view that shows changes. It opens with the latest changes (GET /api/status-changes,
 * newest first) and streams from the newest of them (`lastEventId`), so nothing committed between
 * the two is missed. After a dropped connection the browser reconnects by itself with
 * Last-Event-ID and the API replays what was missed; when the browser gives up (an error status,
 * e.g. the API restarting), the feed reconnects itself with backoff, resuming from the last id
 * it saw. Ids are commit-ordered, so anything at or below the last id is a replay and dropped.
 */

/** Changes kept for the feed, newest first. */
export const FEED_SIZE = 100;
/** Changes read at start, before streaming. */
const OPENING_CHANGES = 20;
/** Reconnect backoff when the browser gave up: 1 s doubling to 15 s. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;
/** Changes arrive in bursts (one batch commit); listeners hear about them together. */
const COALESCE_MS = 50;

export type FeedState = 'connecting' | 'live' | 'reconnecting';

export interface FeedSnapshot {
  state: FeedState;
  /** When the connection was lost, while reconnecting (epoch ms). */
  lostAt?: number;
  /** Newest first, at most FEED_SIZE. */
  changes: readonly StatusChange[];
  /** Whether the opening changes could be read (false: the feed shows only new ones). */
  history: boolean;
}

type Listener = (snapshot: FeedSnapshot, fresh: readonly StatusChange[]) => void;

export class StatusChangeFeed {
  private snapshot: FeedSnapshot = { state: 'connecting', changes: [], history: false };
  private readonly listeners = new Set<Listener>();
  private lastId: number | undefined;
  private source: EventSource | undefined;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pending: StatusChange[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private started = false;

  /** Calls `listener` now with the current snapshot, then on every change; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.snapshot, []);
    if (!this.started) {
      this.started = true;
      void this.start();
    }
    return () => this.listeners.delete(listener);
  }

  private async start(): Promise<void> {
    try {
      const page = await api.latestStatusChanges(OPENING_CHANGES);
      this.lastId = page.items[0]?.id ?? 0;
      this.update({ changes: page.items, history: true });
    } catch {
      // The stream alone still works: the feed then starts with changes from now on.
    }
    addEventListener('online', () => this.reconnectNow());
    this.open();
  }

  private open(): void {
    const source = new EventSource(statusStreamUrl(this.lastId));
    this.source = source;
    source.onopen = () => {
      this.retryMs = RETRY_MIN_MS;
      this.update({ state: 'live', lostAt: undefined });
    };
    source.onmessage = (message: MessageEvent<string>) => {
      const change = JSON.parse(message.data) as StatusChange;
      if (this.lastId !== undefined && change.id <= this.lastId) return;
      this.lastId = change.id;
      this.pending.push(change);
      this.flushTimer ??= setTimeout(() => this.flush(), COALESCE_MS);
    };
    source.onerror = () => {
      const lostAt = this.snapshot.lostAt ?? Date.now();
      if (source.readyState === EventSource.CLOSED) {
        // The browser will not retry (the API answered an error, or not as a stream): we do.
        source.close();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.open();
        }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      }
      this.update({ state: 'reconnecting', lostAt });
    };
  }

  private reconnectNow(): void {
    if (this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.open();
  }

  private flush(): void {
    this.flushTimer = undefined;
    const fresh = this.pending.reverse();
    this.pending = [];
    this.update({ changes: [...fresh, ...this.snapshot.changes].slice(0, FEED_SIZE) }, fresh);
  }

  private update(patch: Partial<FeedSnapshot>, fresh: readonly StatusChange[] = []): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of this.listeners) listener(this.snapshot, fresh);
  }
}

/** The page's one feed. */
export const statusFeed = new StatusChangeFeed();
