import type { DeadLetter, Event, Movement, StatusChange, Stock } from './generated/prisma/client.js';
import type { z } from 'zod';
import type { deadLetterSchema, eventSchema, historyItemSchema, movementSchema, statusChangeSchema, stockSchema } from './schemas/resources.js';

/**
 * Database rows to response bodies. bigint columns become JSON numbers: stock quantities are sums
 * of integers below 1e9 (lib/event.ts MAX_QUANTITY) and stay far below 2^53, and ids/offsets would
 * need 2^53 rows or messages to lose precision.
 */

export function stockBody(row: Stock): z.output<typeof stockSchema> {
  return {
    warehouseId: row.warehouseId,
    productId: row.productId,
    quantity: Number(row.quantity),
    status: row.status,
    updatedAt: row.updatedAt.toISOString(),
    lastMessageId: row.lastMessageId,
  };
}

/** A (warehouse, product) pair the ledger never touched: nothing in stock, no update. */
export function unseenStockBody(warehouseId: string, productId: string): z.output<typeof stockSchema> {
  return { warehouseId, productId, quantity: 0, status: 'out_of_stock', updatedAt: null, lastMessageId: null };
}

export function eventBody(row: Event): z.output<typeof eventSchema> {
  return {
    seq: Number(row.seq),
    messageId: row.messageId,
    movementId: row.movementId,
    warehouseId: row.warehouseId,
    productId: row.productId,
    event: row.event,
    quantity: row.quantity,
    eventTime: row.eventTime.toISOString(),
    producedAt: row.producedAt.toISOString(),
    source: row.source,
    topic: row.topic,
    partition: row.partition,
    offset: Number(row.offset),
    outcome: row.outcome,
    rejectReason: row.rejectReason,
    stockAfter: Number(row.stockAfter),
    receivedAt: row.receivedAt.toISOString(),
  };
}

export function historyItemBody(row: Event): z.output<typeof historyItemSchema> {
  return {
    seq: Number(row.seq),
    messageId: row.messageId,
    movementId: row.movementId,
    event: row.event,
    quantity: row.quantity,
    eventTime: row.eventTime.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    outcome: row.outcome,
    rejectReason: row.rejectReason,
    stockAfter: Number(row.stockAfter),
  };
}

export function deadLetterBody(row: DeadLetter): z.output<typeof deadLetterSchema> {
  const payload = Buffer.from(row.payload);
  const key = row.messageKey === null ? null : Buffer.from(row.messageKey);
  // The column's shape (its migration): [{ key, value: base64 }].
  const headers = Array.isArray(row.headers) ? (row.headers as { key: string; value: string }[]) : [];
  return {
    id: Number(row.id),
    topic: row.topic,
    partition: row.partition,
    offset: Number(row.offset),
    messageKey: key?.toString('utf8') ?? null,
    messageKeyBase64: key?.toString('base64') ?? null,
    headers: headers.map((header) => ({ key: header.key, valueBase64: header.value })),
    payload: payload.toString('utf8'),
    payloadBase64: payload.toString('base64'),
    payloadBytes: row.payloadBytes,
    reason: row.reason,
    detail: row.detail,
    receivedAt: row.receivedAt.toISOString(),
  };
}

export function statusChangeBody(row: StatusChange): z.output<typeof statusChangeSchema> {
  return {
    id: Number(row.id),
    warehouseId: row.warehouseId,
    productId: row.productId,
    previousStatus: row.previousStatus,
    status: row.status,
    quantity: Number(row.quantity),
    messageId: row.messageId,
    changedAt: row.changedAt.toISOString(),
  };
}

type SideOutcome = { outcome: Event['outcome']; rejectReason: Event['rejectReason'] };

/** A movement row plus the ledger outcome of each side's message (keyed by message id). */
export function movementBody(row: Movement, outcomes: Map<string, SideOutcome>): z.output<typeof movementSchema> {
  const departure =
    row.departureMessageId && row.sourceWarehouseId && row.departedAt && row.quantitySent !== null
      ? {
          messageId: row.departureMessageId,
          warehouseId: row.sourceWarehouseId,
          departedAt: row.departedAt.toISOString(),
          quantitySent: row.quantitySent,
          stock: outcomes.get(row.departureMessageId) ?? null,
        }
      : null;
  const arrival =
    row.arrivalMessageId && row.destinationWarehouseId && row.arrivedAt && row.quantityReceived !== null
      ? {
          messageId: row.arrivalMessageId,
          warehouseId: row.destinationWarehouseId,
          arrivedAt: row.arrivedAt.toISOString(),
          quantityReceived: row.quantityReceived,
          stock: outcomes.get(row.arrivalMessageId) ?? null,
        }
      : null;
  const completed = departure !== null && arrival !== null;
  const transitMs = completed && row.arrivedAt && row.departedAt ? row.arrivedAt.getTime() - row.departedAt.getTime() : null;
  return {
    movementId: row.movementId,
    productId: row.productId,
    departureProductId: row.departureProductId,
    arrivalProductId: row.arrivalProductId,
    productMismatch: row.productMismatch,
    state: completed ? 'completed' : departure ? 'in_transit' : 'arrived',
    departure,
    arrival,
    quantitySent: row.quantitySent,
    quantityReceived: row.quantityReceived,
    // Units of two different products do not subtract.
    quantityDifference:
      completed && !row.productMismatch && row.quantitySent !== null && row.quantityReceived !== null ? row.quantitySent - row.quantityReceived : null,
    transitSeconds: transitMs === null ? null : transitMs / 1000,
    transitDuration: transitMs === null ? null : isoDuration(transitMs),
  };
}

/**
 * Milliseconds as an ISO-8601 duration with days, hours, minutes and seconds (`P1DT2H3M4.5S`);
 * zero is `PT0S`. A negative span (arrival stamped before departure, e.g. clock skew between
 * warehouses) gets a leading minus, the common extension (ISO 8601-2, java.time.Duration).
 */
export function isoDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const days = Math.floor(rest / 86_400_000);
  rest -= days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  let time = '';
  if (hours) time += `${hours}H`;
  if (minutes) time += `${minutes}M`;
  if (seconds) time += `${Number(seconds.toFixed(3))}S`;
  if (!days && !time) return 'PT0S';
  return `${sign}P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}
