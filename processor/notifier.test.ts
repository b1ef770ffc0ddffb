import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeStatusChanged, encodeStockChanged, NOTIFICATION_TYPES } from './notifier.js';

// The shape the notifications had when they were built as objects and passed to JSON.stringify:
// the hand-written encoders must give the same bytes.
const envelope = (id: string, type: string, time: number, subject: string, data: Record<string, unknown>): string =>
  JSON.stringify({ id, source: 'warehouse-stock-processor', specversion: '1.0', datacontenttype: 'application/json', subject, type, time, data });

describe('notification encoding', () => {
  const id = randomUUID();
  const time = 1_737_439_421_623;
  const warehouseId = randomUUID();
  const productId = randomUUID();

  it.each([0, 7, 10, 1_000_000_000, 2 ** 40])('writes stock.changed as JSON.stringify would, quantity %d', (quantity) => {
    const row = { warehouseId, productId, quantity, status: 'available' as const };
    const json = encodeStockChanged(id, time, row);
    expect(json).toBe(envelope(id, NOTIFICATION_TYPES.stockChanged, time, warehouseId, { warehouse_id: warehouseId, product_id: productId, quantity, status: 'available' }));
    expect(JSON.parse(json)).toMatchObject({ type: NOTIFICATION_TYPES.stockChanged, data: { quantity } });
  });

  it('writes stock.status_changed as JSON.stringify would', () => {
    const change = {
      id: 123_456_789, warehouseId, productId, previousStatus: 'low' as const, status: 'out_of_stock' as const, quantity: 0,
      messageId: randomUUID(), changedAt: '2026-11-23T23:40:01.123Z',
    };
    expect(encodeStatusChanged(id, time, change)).toBe(
      envelope(id, NOTIFICATION_TYPES.statusChanged, time, warehouseId, {
        status_change_id: change.id, warehouse_id: warehouseId, product_id: productId, previous_status: 'low', status: 'out_of_stock',
        quantity: 0, message_id: change.messageId, changed_at: change.changedAt,
      }),
    );
  });
});
