import { z } from 'zod';
import { DEAD_LETTER_REASONS } from '../../lib/event.js';
import { EVENT_OUTCOMES, MOVEMENT_STATES, REJECT_REASONS, STOCK_STATUSES } from '../../lib/terms.js';
import { isoInstant, uuid } from './common.js';

/** Response bodies of the read API: one zod schema each, also the OpenAPI components. */

export const stockStatus = z.enum(STOCK_STATUSES);
export const eventOutcome = z.enum(EVENT_OUTCOMES);
export const rejectReason = z.enum(REJECT_REASONS);
export const movementState = z.enum(MOVEMENT_STATES);
export const deadLetterReason = z.enum(DEAD_LETTER_REASONS);

export const stockSchema = z
  .object({
    warehouseId: uuid,
    productId: uuid,
    quantity: z.number().int().min(0).describe('Units in stock now (never below zero).'),
    status: stockStatus.describe('`out_of_stock` at 0, `low` at or below LOW_STOCK_THRESHOLD, else `available`.'),
    updatedAt: isoInstant.nullable().describe('When the last applied event changed this row; null for a pair never seen.'),
    lastMessageId: uuid.nullable().describe('Message id of the last event that changed this row; null for a pair never seen.'),
  })
  .describe('Current stock of one product in one warehouse.');

export const productWarehousesSchema = z.object({
  productId: uuid,
  totalQuantity: z.number().int().min(0).describe('Sum of the product\'s stock over all warehouses (not only this page).'),
  warehouseCount: z.number().int().min(0).describe('Warehouses with a stock row for the product.'),
  items: z.array(stockSchema),
  nextCursor: z.string().nullable(),
});

const sideOutcome = z
  .object({
    outcome: eventOutcome,
    rejectReason: rejectReason.nullable(),
  })
  .describe('What the event did to stock: applied, or rejected with the reason (the goods still moved).');

const departureSchema = z.object({
  messageId: uuid,
  warehouseId: uuid.describe('Source warehouse.'),
  departedAt: isoInstant,
  quantitySent: z.number().int().min(1),
  stock: sideOutcome.nullable(),
});

const arrivalSchema = z.object({
  messageId: uuid,
  warehouseId: uuid.describe('Destination warehouse.'),
  arrivedAt: isoInstant,
  quantityReceived: z.number().int().min(1),
  stock: sideOutcome.nullable(),
});

export const movementSchema = z
  .object({
    movementId: uuid,
    productId: uuid.describe("The departure's product, else the arrival's."),
    departureProductId: uuid.nullable().describe('The product the departure names; null without a departure.'),
    arrivalProductId: uuid.nullable().describe('The product the arrival names; null without an arrival.'),
    productMismatch: z
      .boolean()
      .describe("Both sides known and naming different products: each side's stock moved for its own product, and quantityDifference is null."),
    state: movementState.describe('`in_transit`: departure only; `arrived`: arrival only; `completed`: both.'),
    departure: departureSchema.nullable(),
    arrival: arrivalSchema.nullable(),
    quantitySent: z.number().int().nullable(),
    quantityReceived: z.number().int().nullable(),
    quantityDifference: z
      .number()
      .int()
      .nullable()
      .describe('Sent minus received (positive means loss); null until completed, and null when the sides name different products.'),
    transitSeconds: z.number().nullable().describe('Arrival time minus departure time, in seconds; null until completed.'),
    transitDuration: z.string().nullable().describe('The same as an ISO-8601 duration, e.g. PT1H30M; null until completed.'),
  })
  .describe('One movement: its departure and arrival joined by movement id.');

export const eventSchema = z.object({
  seq: z.number().int().describe('Position in the ledger (order of application).'),
  messageId: uuid,
  movementId: uuid,
  warehouseId: uuid,
  productId: uuid,
  event: z.enum(['arrival', 'departure']),
  quantity: z.number().int(),
  eventTime: isoInstant,
  producedAt: isoInstant,
  source: z.string(),
  topic: z.string(),
  partition: z.number().int(),
  offset: z.number().int(),
  outcome: eventOutcome,
  rejectReason: rejectReason.nullable(),
  stockAfter: z.number().int().describe('Stock of (warehouse, product) right after this event.'),
  receivedAt: isoInstant,
});

export const historyItemSchema = eventSchema
  .pick({ seq: true, messageId: true, movementId: true, event: true, quantity: true, eventTime: true, receivedAt: true, outcome: true, rejectReason: true, stockAfter: true })
  .describe('One ledger row of a (warehouse, product): the event, its outcome and the stock right after it.');

export const deadLetterSchema = z.object({
  id: z.number().int(),
  topic: z.string(),
  partition: z.number().int(),
  offset: z.number().int(),
  messageKey: z.string().nullable().describe('The message key as UTF-8 text (invalid bytes replaced); null without a key.'),
  messageKeyBase64: z.string().nullable().describe('The key bytes, base64.'),
  headers: z
    .array(z.object({ key: z.string(), valueBase64: z.string() }))
    .describe('The message headers in order, values base64.'),
  payload: z.string().describe('The raw payload as UTF-8 text (invalid bytes replaced), cut to its first 4 KiB.'),
  payloadBase64: z.string().describe('The same bytes, base64.'),
  payloadBytes: z.number().int().describe('Size of the original payload.'),
  reason: z.string().describe(`One of ${DEAD_LETTER_REASONS.join(', ')}.`),
  detail: z.string(),
  receivedAt: isoInstant,
});

export const statusChangeSchema = z.object({
  id: z.number().int().describe('Commit-ordered id; the SSE stream\'s event id.'),
  warehouseId: uuid,
  productId: uuid,
  previousStatus: stockStatus,
  status: stockStatus,
  quantity: z.number().int(),
  messageId: uuid.describe('The event whose effect changed the status.'),
  changedAt: isoInstant,
});

export const statsSchema = z.object({
  events: z.object({
    total: z.number().int(),
    applied: z.number().int(),
    rejected: z.number().int(),
    rejectedByReason: z.object(Object.fromEntries(REJECT_REASONS.map((r) => [r, z.number().int()])) as Record<(typeof REJECT_REASONS)[number], z.ZodNumber>),
  }),
  deadLetters: z.object({ total: z.number().int(), byReason: z.record(z.string(), z.number().int()) }),
  stockRows: z.number().int(),
  stockRowsByStatus: z
    .object(Object.fromEntries(STOCK_STATUSES.map((s) => [s, z.number().int().min(0)])) as Record<(typeof STOCK_STATUSES)[number], z.ZodNumber>)
    .describe('Stock rows at each status now (`low` and `out_of_stock` are the rows operators watch).'),
  movementsInTransit: z.number().int().min(0).describe('Movements with a departure and no arrival yet.'),
  warehouses: z.number().int().describe('Distinct warehouses with a stock row.'),
  products: z.number().int().describe('Distinct products with a stock row.'),
  statusChanges: z.number().int().describe('The global status-change counter.'),
  statusChangesToday: z.number().int().min(0).describe('Status changes since 00:00 UTC today (the database\'s clock).'),
  lastEventTime: isoInstant.nullable().describe('Latest event time (data.timestamp) in the ledger.'),
  lastReceivedAt: isoInstant.nullable().describe('When the processor last stored an event.'),
});

export const acceptedSchema = z.object({ messageId: uuid.describe('The id of the published message (envelope id).') });

export const healthSchema = z.object({ status: z.enum(['ok']) });
export const readySchema = z.object({ status: z.enum(['ready']), database: z.enum(['ok']), liveStream: z.enum(['ok']) });
