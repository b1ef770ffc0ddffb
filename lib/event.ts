import { z } from 'zod';

/**
 * The event contract (../shared/design.md section 2): one schema that validates messages in the
 * processor and requests in the API, types both, and documents the API (OpenAPI is generated from
 * it). Anything it refuses is a dead letter with one reason from DEAD_LETTER_REASONS.
 */

/** Largest accepted message. A valid envelope is about 500 bytes; 16 KiB leaves room for extra fields. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** Largest quantity of one event: fits PostgreSQL `integer`, and stock sums stay far from `bigint`'s limit. */
export const MAX_QUANTITY = 1_000_000_000;

export const EVENT_TYPE = 'ru.retail.warehouses.movement';

/**
 * The instants an event may carry: years 1 to 9999 UTC, what both PostgreSQL's timestamptz in ISO
 * text (COPY) and a JavaScript Date's toISOString hold without an extended year. Outside, COPY
 * refused the batch (year 0, or +010000 after an offset pushed 9999-12-31 into year 10000).
 */
export const MIN_INSTANT_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');
const INSTANT_RANGE = 'an instant in years 1-9999 UTC';

/** Every reason a message can be dead-lettered for: the `reason` metric label and DLQ header. */
export const DEAD_LETTER_REASONS = [
  'oversized_message',
  'malformed_json',
  'missing_field',
  'invalid_field',
  'invalid_uuid',
  'unknown_event',
  'invalid_quantity',
  'invalid_timestamp',
  'rejected_by_database',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

// Any 8-4-4-4-12 hex id: exactly what PostgreSQL's uuid type accepts in canonical form, so no
// id that the database could store is refused for its version or variant bits.
const uuid = z.guid();

// The schema's own patterns, so that the direct checks below accept exactly what it accepts.
const SOURCE_PATTERN = /^WH-\d+$/;
const INSTANT_PATTERN = z.regexes.datetime({ offset: true, local: false, precision: null });
const OPTIONAL_TEXT_MAX = 200;

/** ISO-8601 instant with a zone (Z or an offset), e.g. 2025-02-18T14:34:56Z. */
const instant = z.iso.datetime({ offset: true });

export const movementDataSchema = z.object({
  movement_id: uuid.describe('Shared by the departure and the arrival of one movement.'),
  warehouse_id: uuid.describe('The warehouse the goods left (departure) or arrived at (arrival).'),
  timestamp: instant.describe('When the goods left or arrived (ISO-8601 with zone).'),
  event: z.enum(['arrival', 'departure']),
  product_id: uuid,
  quantity: z.number().int().min(1).max(MAX_QUANTITY).describe(`Units moved: an integer from 1 to ${MAX_QUANTITY}.`),
});
export type MovementData = z.infer<typeof movementDataSchema>;

export const envelopeSchema = z.object({
  id: uuid.describe('Message id: unique per event; a repeated id is a redelivery.'),
  source: z.string().regex(SOURCE_PATTERN, 'WH- followed by digits'),
  specversion: z.literal('1.0'),
  type: z.literal(EVENT_TYPE),
  datacontenttype: z.literal('application/json').optional(),
  dataschema: z.string().max(OPTIONAL_TEXT_MAX).optional(),
  time: z
    .number()
    .int()
    .min(MIN_INSTANT_MS, INSTANT_RANGE)
    .max(MAX_INSTANT_MS, INSTANT_RANGE)
    .describe('Epoch milliseconds when the message was produced: an instant in years 1-9999 UTC.'),
  subject: z.string().max(OPTIONAL_TEXT_MAX).optional(),
  destination: z.string().max(OPTIONAL_TEXT_MAX).optional(),
  data: movementDataSchema,
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** A validated event, flattened to what the ledger stores. */
export interface MovementEvent {
  messageId: string;
  movementId: string;
  warehouseId: string;
  productId: string;
  event: 'arrival' | 'departure';
  quantity: number;
  /** data.timestamp, epoch milliseconds. */
  eventTimeMs: number;
  /** Envelope `time`, epoch milliseconds. */
  producedAtMs: number;
  source: string;
}

export type DecodeResult =
  | { ok: true; event: MovementEvent }
  | { ok: false; reason: DeadLetterReason; detail: string };

const UUID_FIELDS = new Set(['id', 'movement_id', 'warehouse_id', 'product_id']);

/**
 * Validates a parsed JSON value as an envelope. A valid envelope is accepted by
 * {@link acceptValidEnvelope}'s direct checks; anything those do not accept goes through the zod
 * schema, which decides and names the reason. So the schema stays the one definition of what is
 * refused and why, and the common case skips its cost (about 4 µs of 5.5 per message, design.md 5).
 */
export function validateEnvelope(value: unknown): DecodeResult {
  const accepted = acceptValidEnvelope(value);
  return accepted ? { ok: true, event: accepted } : validateWithSchema(value);
}

/** {@link validateEnvelope} by the zod schema alone: the definition the direct checks are tested against. */
export function validateWithSchema(value: unknown): DecodeResult {
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) return classify(parsed.error, value);
  const envelope = parsed.data;
  const eventTimeMs = Date.parse(envelope.data.timestamp);
  if (Number.isNaN(eventTimeMs)) {
    return { ok: false, reason: 'invalid_timestamp', detail: 'data.timestamp: not a real instant' };
  }
  if (eventTimeMs < MIN_INSTANT_MS || eventTimeMs > MAX_INSTANT_MS) {
    return { ok: false, reason: 'invalid_timestamp', detail: `data.timestamp: ${envelope.data.timestamp} is not ${INSTANT_RANGE}` };
  }
  return {
    ok: true,
    event: {
      messageId: envelope.id.toLowerCase(),
      movementId: envelope.data.movement_id.toLowerCase(),
      warehouseId: envelope.data.warehouse_id.toLowerCase(),
      productId: envelope.data.product_id.toLowerCase(),
      event: envelope.data.event,
      quantity: envelope.data.quantity,
      eventTimeMs,
      producedAtMs: envelope.time,
      source: envelope.source,
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `z.guid()`'s pattern by character codes: 8-4-4-4-12 hex digits. With four regex tests (about
 * 1 µs together) the direct checks cost 2.2-2.8 µs per message; with this loop 1.2 (a timing
 * loop over the make-bench stream's messages, machine shared).
 */
function isUuid(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45 /* - */) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false; // 0-9 a-f A-F
  }
  return true;
}
const isOptionalText = (value: unknown): boolean => value === undefined || (typeof value === 'string' && value.length <= OPTIONAL_TEXT_MAX);

/**
 * The event of an envelope that satisfies every rule of {@link envelopeSchema} and the instant
 * range, checked directly; undefined when any rule fails (the schema then names the reason).
 * It must never accept what the schema refuses: `lib/event.test.ts` runs every broken message and
 * field-by-field mutations through both and compares.
 */
export function acceptValidEnvelope(value: unknown): MovementEvent | undefined {
  if (!isRecord(value)) return undefined;
  const { id, source, time, data } = value;
  if (!isUuid(id) || typeof source !== 'string' || !SOURCE_PATTERN.test(source)) return undefined;
  if (value.specversion !== '1.0' || value.type !== EVENT_TYPE) return undefined;
  if (value.datacontenttype !== undefined && value.datacontenttype !== 'application/json') return undefined;
  if (!isOptionalText(value.dataschema) || !isOptionalText(value.subject) || !isOptionalText(value.destination)) return undefined;
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < MIN_INSTANT_MS || time > MAX_INSTANT_MS) return undefined;
  if (!isRecord(data)) return undefined;
  const { movement_id: movementId, warehouse_id: warehouseId, product_id: productId, timestamp, event, quantity } = data;
  if (!isUuid(movementId) || !isUuid(warehouseId) || !isUuid(productId)) return undefined;
  if (event !== 'arrival' && event !== 'departure') return undefined;
  if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) return undefined;
  if (typeof timestamp !== 'string' || !INSTANT_PATTERN.test(timestamp)) return undefined;
  const eventTimeMs = Date.parse(timestamp);
  if (!(eventTimeMs >= MIN_INSTANT_MS && eventTimeMs <= MAX_INSTANT_MS)) return undefined;
  return {
    messageId: id.toLowerCase(),
    movementId: movementId.toLowerCase(),
    warehouseId: warehouseId.toLowerCase(),
    productId: productId.toLowerCase(),
    event,
    quantity,
    eventTimeMs,
    producedAtMs: time,
    source,
  };
}

/** Decodes raw message bytes: size, JSON, then the schema. */
export function decodeMessage(payload: Buffer | null | undefined): DecodeResult {
  if (!payload || payload.length === 0) return { ok: false, reason: 'malformed_json', detail: 'empty message' };
  if (payload.length > MAX_MESSAGE_BYTES) {
    return { ok: false, reason: 'oversized_message', detail: `${payload.length} bytes > ${MAX_MESSAGE_BYTES}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'malformed_json', detail: (error as Error).message.slice(0, 200) };
  }
  return validateEnvelope(value);
}

/** Maps the first schema issue to one reason from the fixed list, with a readable detail. */
function classify(error: z.ZodError, value: unknown): DecodeResult & { ok: false } {
  const issue = error.issues[0];
  if (!issue) return { ok: false, reason: 'invalid_field', detail: 'invalid envelope' };
  const path = issue.path.map(String);
  const field = path[path.length - 1] ?? '';
  const where = path.length > 0 ? path.join('.') : 'message';
  const detail = `${where}: ${issue.message}`.slice(0, 300);
  if (valueAt(value, path) === undefined && path.length > 0) return { ok: false, reason: 'missing_field', detail };
  if (UUID_FIELDS.has(field)) return { ok: false, reason: 'invalid_uuid', detail };
  if (field === 'event') return { ok: false, reason: 'unknown_event', detail };
  if (field === 'quantity') return { ok: false, reason: 'invalid_quantity', detail };
  if (field === 'timestamp') return { ok: false, reason: 'invalid_timestamp', detail };
  if (path.join('.') === 'time' && (issue.code === 'too_big' || issue.code === 'too_small')) return { ok: false, reason: 'invalid_timestamp', detail };
  return { ok: false, reason: 'invalid_field', detail };
}

function valueAt(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Wraps a movement's `data` in a full envelope (the API's POST and the load generator use it). */
export function wrapInEnvelope(data: MovementData, options: { id: string; source: string; timeMs: number }): Envelope {
  return {
    id: options.id,
    source: options.source,
    specversion: '1.0',
    type: EVENT_TYPE,
    datacontenttype: 'application/json',
    dataschema: 'ru.retail.warehouses.movement.v1.0',
    time: options.timeMs,
    subject: `${options.source}:${data.event.toUpperCase()}`,
    destination: 'ru.retail.warehouses',
    data,
  };
}
