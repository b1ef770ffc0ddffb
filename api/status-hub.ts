import pg from 'pg';
import { createLogger } from '../lib/log.js';
import type { Database } from './db.js';
import type { ApiMetrics } from './metrics.js';
import { statusChangeBody } from './serialize.js';

/**
 * Live status changes for the SSE stream: ONE dedicated PostgreSQL connection LISTENs on
 * `stock_status_changes` for every subscriber. apply_batch notifies once per committed batch with
 * `{first_id, last_id, count}` (prisma/migrations/..._apply_batch); the hub then reads the log
 * from the last id it broadcast, so a burst of changes never depends on pg_notify's 8000-byte
 * payload limit. Status change ids grow in commit order (apply_batch serialises merges), which is
 * what makes "every id after N" a loss-free resume point.
 *
 * A subscriber that resumes (Last-Event-ID) first reads its backlog from the log; live batches
 * that arrive meanwhile mark it dirty, and it reads the log again until it has caught up.
 */

const log = createLogger('api.status-hub');
const CHANNEL = 'stock_status_changes';
const PAGE = 1000;
/** A client that falls this far behind (bytes queued) is closed; it resumes with Last-Event-ID. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export type StatusChangeJson = ReturnType<typeof statusChangeBody>;

/** Where a subscriber's events go; `write` returns the bytes now queued for the client. */
export interface SubscriberSink {
  write(chunk: string): number;
  close(): void;
}

interface Subscriber {
  sink: SubscriberSink;
  lastSent: number;
  catchingUp: boolean;
  dirty: boolean;
}

export class StatusChangeHub {
  private client: pg.Client | undefined;
  private readonly subscribers = new Set<Subscriber>();
  private lastBroadcast = 0;
  private fetching: Promise<void> | undefined;
  private refetch = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly db: Database,
    private readonly metrics: Pick<ApiMetrics, 'sseSubscribers' | 'sseEventsSent'>,
    private readonly heartbeatMs = 15_000,
  ) {}

  /** Connects the LISTEN connection; call once before serving. */
  async start(): Promise<void> {
    await this.connect();
    this.heartbeat = setInterval(() => this.broadcastRaw(': heartbeat\n\n'), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'wsm-api-listen' });
    client.on('notification', () => this.poll());
    client.on('error', (error) => {
      log.warn({ err: error }, 'LISTEN connection failed; reconnecting');
      this.scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
    const max = await this.db.statusChange.aggregate({ _max: { id: true } });
    // On reconnect keep the old position, so changes committed while disconnected are still sent.
    if (this.lastBroadcast === 0) this.lastBroadcast = Number(max._max.id ?? 0n);
    else this.poll();
  }

  private scheduleReconnect(delayMs = 1000): void {
    if (this.closed || this.reconnect) return;
    this.client?.end().catch(() => undefined);
    this.client = undefined;
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      this.connect().catch((error: unknown) => {
        log.warn({ err: error, delayMs }, 'LISTEN reconnect failed');
        this.scheduleReconnect(Math.min(delayMs * 2, 30_000));
      });
    }, delayMs);
  }

  /** The log after `afterId`, oldest first, at most `limit` rows. */
  async readAfter(afterId: number, limit = PAGE): Promise<StatusChangeJson[]> {
    const rows = await this.db.statusChange.findMany({ where: { id: { gt: BigInt(afterId) } }, orderBy: { id: 'asc' }, take: limit });
    return rows.map(statusChangeBody);
  }

  /** Reads new changes once per notification burst (one read in flight, one queued at most). */
  private poll(): void {
    if (this.fetching) {
      this.refetch = true;
      return;
    }
    this.fetching = (async () => {
      do {
        this.refetch = false;
        for (;;) {
          const rows = await this.readAfter(this.lastBroadcast);
          if (rows.length === 0) break;
          this.lastBroadcast = rows[rows.length - 1]!.id;
          this.deliver(rows);
          if (rows.length < PAGE) break;
        }
      } while (this.refetch && !this.closed);
    })()
      .catch((error: unknown) => log.error({ err: error }, 'reading status changes failed'))
      .finally(() => {
        this.fetching = undefined;
      });
  }

  private deliver(rows: StatusChangeJson[]): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.catchingUp) subscriber.dirty = true;
      else this.send(subscriber, rows);
    }
  }

  private send(subscriber: Subscriber, rows: StatusChangeJson[]): void {
    for (const row of rows) {
      if (row.id <= subscriber.lastSent) continue;
      const queued = subscriber.sink.write(`id: ${row.id}\ndata: ${JSON.stringify(row)}\n\n`);
      subscriber.lastSent = row.id;
      this.metrics.sseEventsSent.inc();
      if (queued > MAX_QUEUED_BYTES) {
        log.warn({ lastSent: subscriber.lastSent }, 'closing a subscriber that cannot keep up');
        this.remove(subscriber);
        subscriber.sink.close();
        return;
      }
    }
  }

  private broadcastRaw(chunk: string): void {
    for (const subscriber of this.subscribers) subscriber.sink.write(chunk);
  }

  /**
   * Adds a subscriber. With `resumeAfter` it first gets every change after that id from the log;
   * without, only changes committed from now on. Returns the function that removes it.
   */
  subscribe(sink: SubscriberSink, resumeAfter?: number): () => void {
    const subscriber: Subscriber = { sink, lastSent: resumeAfter ?? this.lastBroadcast, catchingUp: resumeAfter !== undefined, dirty: false };
    this.subscribers.add(subscriber);
    this.metrics.sseSubscribers.set(this.subscribers.size);
    if (subscriber.catchingUp) void this.catchUp(subscriber);
    return () => this.remove(subscriber);
  }

  private async catchUp(subscriber: Subscriber): Promise<void> {
    try {
      for (;;) {
        subscriber.dirty = false;
        const rows = await this.readAfter(subscriber.lastSent);
        if (!this.subscribers.has(subscriber)) return;
        this.send(subscriber, rows);
        if (rows.length === PAGE || subscriber.dirty) continue;
        subscriber.catchingUp = false;
        return;
      }
    } catch (error) {
      log.error({ err: error }, 'reading the backlog failed; closing the stream');
      this.remove(subscriber);
      subscriber.sink.close();
    }
  }

  private remove(subscriber: Subscriber): void {
    if (this.subscribers.delete(subscriber)) this.metrics.sseSubscribers.set(this.subscribers.size);
  }

  /** Open streams. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Ends every stream and the LISTEN connection (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnect) clearTimeout(this.reconnect);
    for (const subscriber of [...this.subscribers]) {
      this.remove(subscriber);
      subscriber.sink.close();
    }
    await this.fetching;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
