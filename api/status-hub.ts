import pg from 'pg';
import { connectionConfig } from '../lib/db/connection.js';
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
 *
 * States: connecting -> live -> lost -> connecting ... The hub is `live` only while its LISTEN
 * connection is up and answered its last probe. An idle LISTEN connection sends nothing, so a
 * blackholed database (packets dropped, no reset) would leave it "up" for the kernel's keep-alive
 * time (about 11 minutes) while notifications silently stop: every `probeMs` it runs `SELECT 1`,
 * and no answer within `probeTimeoutMs` counts as lost. When lost, every open stream is ended
 * (clients reconnect with Last-Event-ID and lose nothing), new subscriptions are refused (503)
 * and /ready fails until the connection is back; the hub reconnects with backoff.
 */

const log = createLogger('api.status-hub');
const CHANNEL = 'stock_status_changes';
const PAGE = 1000;
/** A client that falls this far behind (bytes queued) is closed; it resumes with Last-Event-ID. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** A failed read of the log is retried after this long (a notification also retries it). */
const POLL_RETRY_MS = 1000;

export type StatusChangeJson = ReturnType<typeof statusChangeBody>;

/** Where a subscriber's events go; `write` returns the bytes now queued for the client. */
export interface SubscriberSink {
  write(chunk: string): number;
  close(): void;
}

/** Why a subscription was refused: the LISTEN connection is down, or the cap is reached. */
export type RefusedReason = 'not_live' | 'full';

export type Subscription = { ok: true; unsubscribe: () => void } | { ok: false; reason: RefusedReason };

export interface StatusHubOptions {
  /** statement_timeout of the LISTEN session (API_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
  /** SSE heartbeat period; 15 s keeps idle proxies (60 s timeouts are common) from closing streams. */
  heartbeatMs?: number;
  /** How often the LISTEN connection is probed; 5 s: a lost database is noticed within 5 s plus the probe timeout. */
  probeMs?: number;
  /** A probe (or LISTEN) not answered within this long means the connection is lost. */
  probeTimeoutMs?: number;
  /** Opening the LISTEN connection fails after this long. */
  connectTimeoutMs?: number;
  /** Open streams at most (API_SSE_MAX_SUBSCRIBERS). */
  maxSubscribers?: number;
  /** Reconnect backoff doubles from 250 ms up to this. */
  reconnectMaxMs?: number;
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
  private positioned = false;
  private fetching: Promise<void> | undefined;
  private refetch = false;
  private probing = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private reconnect: NodeJS.Timeout | undefined;
  private reconnectDelayMs = 0;
  private closed = false;
  private readonly options: Required<StatusHubOptions>;

  constructor(
    private readonly databaseUrl: string,
    private readonly db: Database,
    private readonly metrics: Pick<ApiMetrics, 'sseSubscribers' | 'sseEventsSent' | 'sseRefused'>,
    options: StatusHubOptions,
  ) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { heartbeatMs: 15_000, probeMs: 5_000, probeTimeoutMs: 2_000, connectTimeoutMs: 2_000, maxSubscribers: 500, reconnectMaxMs: 10_000, ...given } as Required<StatusHubOptions>;
  }

  /** Connects the LISTEN connection; call once before serving. */
  async start(): Promise<void> {
    await this.connect();
    this.every(this.options.heartbeatMs, () => this.broadcastRaw(': heartbeat\n\n'));
    this.every(this.options.probeMs, () => this.probe());
  }

  /** True while the LISTEN connection is up and answered its last probe. */
  get live(): boolean {
    return this.client !== undefined;
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(
      connectionConfig(this.databaseUrl, {
        applicationName: 'wsm-api-listen',
        statementTimeoutMs: this.options.statementTimeoutMs,
        // Every query on this connection is LISTEN or the probe: both answer at once when the database is there.
        queryTimeoutMs: this.options.probeTimeoutMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
      }),
    );
    client.on('notification', () => this.poll());
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
    try {
      await client.connect();
      // First start: broadcast from the newest change; read before LISTEN, then poll once after
      // it, so nothing committed in between is missed. A reconnect keeps its position.
      if (!this.positioned) {
        const max = await this.db.statusChange.aggregate({ _max: { id: true } });
        this.lastBroadcast = Number(max._max.id ?? 0n);
        this.positioned = true;
      }
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      client.removeAllListeners('end');
      client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelayMs = 0;
    this.poll();
  }

  /** The LISTEN connection failed, ended or missed a probe: end it, end every stream, reconnect. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    client.removeAllListeners('end');
    // end() destroys the socket when a query (the probe) is still pending, so this cannot hang.
    client.end().catch(() => undefined);
    if (this.closed) return;
    log.warn({ err: error, subscribers: this.subscribers.size }, 'LISTEN connection lost; ending live streams and reconnecting');
    for (const subscriber of [...this.subscribers]) {
      this.remove(subscriber);
      subscriber.sink.write(': the live stream lost its database connection; reconnect with Last-Event-ID\n\n');
      subscriber.sink.close();
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnect) return;
    this.reconnectDelayMs = Math.min(Math.max(this.reconnectDelayMs * 2, 250), this.options.reconnectMaxMs);
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      this.connect().then(
        () => log.info('LISTEN connection re-established'),
        (error: unknown) => {
          log.warn({ err: error, delayMs: this.reconnectDelayMs }, 'LISTEN reconnect failed');
          this.scheduleReconnect();
        },
      );
    }, this.reconnectDelayMs);
  }

  /** Runs `SELECT 1` on the LISTEN connection; no answer within probeTimeoutMs (its query_timeout) is a loss. */
  private probe(): void {
    const client = this.client;
    if (!client || this.probing) return;
    this.probing = true;
    client
      .query('SELECT 1')
      .catch((error: unknown) => this.lost(client, error))
      .finally(() => {
        this.probing = false;
      });
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
      .catch((error: unknown) => {
        log.error({ err: error }, 'reading status changes failed; retrying');
        const retry = setTimeout(() => {
          this.timers.delete(retry);
          if (!this.closed) this.poll();
        }, POLL_RETRY_MS);
        this.timers.add(retry);
      })
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
   * without, only changes committed from now on. Refused while the hub is not live or full.
   */
  subscribe(sink: SubscriberSink, resumeAfter?: number): Subscription {
    const refused = !this.live ? 'not_live' : this.subscribers.size >= this.options.maxSubscribers ? 'full' : undefined;
    if (refused) {
      this.metrics.sseRefused.inc({ reason: refused });
      return { ok: false, reason: refused };
    }
    const subscriber: Subscriber = { sink, lastSent: resumeAfter ?? this.lastBroadcast, catchingUp: resumeAfter !== undefined, dirty: false };
    this.subscribers.add(subscriber);
    this.metrics.sseSubscribers.set(this.subscribers.size);
    if (subscriber.catchingUp) void this.catchUp(subscriber);
    return { ok: true, unsubscribe: () => this.remove(subscriber) };
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
    for (const timer of this.timers) clearInterval(timer);
    if (this.reconnect) clearTimeout(this.reconnect);
    for (const subscriber of [...this.subscribers]) {
      this.remove(subscriber);
      subscriber.sink.close();
    }
    await this.fetching;
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners('end');
    await client?.end().catch(() => undefined);
  }
}
