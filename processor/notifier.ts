import { randomUUID } from 'node:crypto';
import type { KafkaProducer } from '../lib/kafka/producer.js';
import { createLogger } from '../lib/log.js';
import type { ProcessorMetrics } from './metrics.js';
import type { BatchChanges } from './sql/batch-changes.js';

const log = createLogger('notifier');

export const NOTIFICATION_TYPES = {
  stockChanged: 'ru.retail.warehouses.stock.changed',
  statusChanged: 'ru.retail.warehouses.stock.status_changed',
} as const;

/**
 * Notifications produced between two yields to the event loop. Producing a batch's 20k
 * notifications in one go held the loop for about 0.4 s (`make bench` CPU profile), during which
 * the next batch could neither be read nor start its COPY.
 */
const YIELD_EVERY = 1000;

/**
 * Announces a committed batch on the notification topic, keyed by warehouse: one `stock.changed`
 * per (warehouse, product) the batch changed, one `stock.status_changed` per status change.
 * CloudEvents-style envelopes, like the input. Published after commit and not awaited: a crash
 * in between loses announcements, never data (the status log in the database has every change).
 */
export class Notifier {
  constructor(
    private readonly producer: KafkaProducer,
    private readonly topic: string,
    private readonly metrics: ProcessorMetrics,
  ) {
    producer.onUndelivered((error) => {
      metrics.notificationsUndelivered.inc();
      log.warn({ err: error }, 'notification not delivered');
    });
  }

  async publish(changes: BatchChanges): Promise<void> {
    const time = Date.now();
    let sent = 0;
    for (const row of changes.stock) {
      const waiting = this.send(row.warehouseId, ++sent, encodeStockChanged(randomUUID(), time, row));
      if (waiting) await waiting;
    }
    this.metrics.notifications.inc({ type: 'stock.changed' }, changes.stock.length);
    for (const change of changes.status) {
      const waiting = this.send(change.warehouseId, ++sent, encodeStatusChanged(randomUUID(), time, change));
      if (waiting) await waiting;
    }
    this.metrics.notifications.inc({ type: 'stock.status_changed' }, changes.status.length);
  }

  /** Queues one notification; awaits only when the producer's queue is full or it is time to yield. */
  private send(warehouseId: string, sent: number, json: string): Promise<void> | undefined {
    const queued = this.producer.sendUnawaited(this.topic, Buffer.from(json, 'latin1'), warehouseId);
    if (queued) return queued.then(() => (sent % YIELD_EVERY === 0 ? yieldToLoop() : undefined));
    return sent % YIELD_EVERY === 0 ? yieldToLoop() : undefined;
  }
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type StockRow = BatchChanges['stock'][number];
type StatusChange = BatchChanges['status'][number];

// The envelope up to its subject, as JSON.stringify writes it (notifier.test.ts compares).
const HEAD = '{"id":"';
const AFTER_ID = '","source":"warehouse-stock-processor","specversion":"1.0","datacontenttype":"application/json","subject":"';

/**
 * A `stock.changed` notification as JSON, written by hand: every value is a number, an enum
 * label or a UUID read from a typed column, so nothing needs escaping, and the template costs a
 * fraction of JSON.stringify on an object built for it (`npx tsx load/bench/hot-path.ts`).
 */
export function encodeStockChanged(id: string, time: number, row: StockRow): string {
  return (
    `${HEAD}${id}${AFTER_ID}${row.warehouseId}","type":"${NOTIFICATION_TYPES.stockChanged}","time":${time},` +
    `"data":{"warehouse_id":"${row.warehouseId}","product_id":"${row.productId}","quantity":${row.quantity},"status":"${row.status}"}}`
  );
}

/** A `stock.status_changed` notification as JSON (see {@link encodeStockChanged}; `changedAt` is an ISO instant). */
export function encodeStatusChanged(id: string, time: number, change: StatusChange): string {
  return (
    `${HEAD}${id}${AFTER_ID}${change.warehouseId}","type":"${NOTIFICATION_TYPES.statusChanged}","time":${time},` +
    `"data":{"status_change_id":${change.id},"warehouse_id":"${change.warehouseId}","product_id":"${change.productId}",` +
    `"previous_status":"${change.previousStatus}","status":"${change.status}","quantity":${change.quantity},"message_id":"${change.messageId}",` +
    `"changed_at":"${change.changedAt}"}}`
  );
}
