import { randomUUID } from 'node:crypto';
import type { KafkaProducer } from '../lib/kafka/producer.js';
import { createLogger } from '../lib/log.js';
import type { ProcessorMetrics } from './metrics.js';
import type { ApplyResult } from './sql/apply-batch.js';

const log = createLogger('notifier');

export const NOTIFICATION_TYPES = {
  stockChanged: 'ru.retail.warehouses.stock.changed',
  statusChanged: 'ru.retail.warehouses.stock.status_changed',
} as const;

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
  ) {}

  async publish(result: ApplyResult): Promise<void> {
    const time = Date.now();
    for (const [warehouseId, productId, quantity, status] of result.stock ?? []) {
      await this.send(warehouseId, 'stock.changed', { type: NOTIFICATION_TYPES.stockChanged, time, data: { warehouse_id: warehouseId, product_id: productId, quantity, status } });
    }
    for (const [id, warehouseId, productId, previousStatus, status, quantity, messageId, changedAt] of result.status ?? []) {
      await this.send(warehouseId, 'stock.status_changed', {
        type: NOTIFICATION_TYPES.statusChanged,
        time,
        data: { status_change_id: id, warehouse_id: warehouseId, product_id: productId, previous_status: previousStatus, status, quantity, message_id: messageId, changed_at: changedAt },
      });
    }
  }

  private async send(warehouseId: string, label: 'stock.changed' | 'stock.status_changed', body: { type: string; time: number; data: Record<string, unknown> }): Promise<void> {
    const value = Buffer.from(
      JSON.stringify({ id: randomUUID(), source: 'warehouse-stock-processor', specversion: '1.0', datacontenttype: 'application/json', subject: warehouseId, ...body }),
    );
    const { delivered } = await this.producer.send(this.topic, value, warehouseId);
    this.metrics.notifications.inc({ type: label });
    delivered.catch((error: unknown) => log.warn({ err: error, type: label }, 'notification not delivered'));
  }
}
