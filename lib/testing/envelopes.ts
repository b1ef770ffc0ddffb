import { randomUUID } from 'node:crypto';
import { MAX_MESSAGE_BYTES, MAX_QUANTITY, wrapInEnvelope, type DeadLetterReason, type Envelope, type MovementData } from '../event.js';

/** Builders of valid envelopes and of every kind of broken message, for tests. */

export function movementData(overrides: Partial<MovementData> = {}): MovementData {
  return {
    movement_id: randomUUID(),
    warehouse_id: randomUUID(),
    timestamp: '2025-02-18T14:34:56Z',
    event: 'arrival',
    product_id: randomUUID(),
    quantity: 100,
    ...overrides,
  };
}

export function envelope(data: Partial<MovementData> = {}, overrides: Partial<Envelope> = {}): Envelope {
  return { ...wrapInEnvelope(movementData(data), { id: randomUUID(), source: 'WH-3423', timeMs: Date.now() }), ...overrides };
}

export function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A broken message and the dead-letter reason it must get. */
export interface BrokenMessage {
  name: string;
  payload: Buffer;
  reason: DeadLetterReason;
}

function withData(patch: Record<string, unknown>): Buffer {
  const value = envelope();
  return encode({ ...value, data: { ...value.data, ...patch } });
}

function without(field: string, inData = false): Buffer {
  const value = envelope() as unknown as Record<string, unknown>;
  if (inData) {
    const data = { ...(value.data as Record<string, unknown>) };
    delete data[field];
    return encode({ ...value, data });
  }
  const copy = { ...value };
  delete copy[field];
  return encode(copy);
}

/** One message of every kind the contract refuses. */
export function brokenMessages(): BrokenMessage[] {
  return [
    { name: 'not JSON', payload: Buffer.from('{"id": "abc", '), reason: 'malformed_json' },
    { name: 'empty', payload: Buffer.alloc(0), reason: 'malformed_json' },
    { name: 'binary garbage', payload: Buffer.from([0xff, 0xfe, 0x00, 0x81]), reason: 'malformed_json' },
    { name: 'JSON but not an object', payload: encode([1, 2, 3]), reason: 'invalid_field' },
    { name: 'oversized', payload: encode({ ...envelope(), padding: 'x'.repeat(MAX_MESSAGE_BYTES) }), reason: 'oversized_message' },
    { name: 'missing id', payload: without('id'), reason: 'missing_field' },
    { name: 'missing data', payload: without('data'), reason: 'missing_field' },
    { name: 'missing quantity', payload: without('quantity', true), reason: 'missing_field' },
    { name: 'bad message id', payload: encode({ ...envelope(), id: 'not-a-uuid' }), reason: 'invalid_uuid' },
    { name: 'bad warehouse id', payload: withData({ warehouse_id: '1234' }), reason: 'invalid_uuid' },
    { name: 'numeric product id', payload: withData({ product_id: 42 }), reason: 'invalid_uuid' },
    { name: 'unknown event', payload: withData({ event: 'teleport' }), reason: 'unknown_event' },
    { name: 'zero quantity', payload: withData({ quantity: 0 }), reason: 'invalid_quantity' },
    { name: 'negative quantity', payload: withData({ quantity: -5 }), reason: 'invalid_quantity' },
    { name: 'fractional quantity', payload: withData({ quantity: 2.5 }), reason: 'invalid_quantity' },
    { name: 'oversized quantity', payload: withData({ quantity: MAX_QUANTITY + 1 }), reason: 'invalid_quantity' },
    { name: 'quantity as string', payload: withData({ quantity: '10' }), reason: 'invalid_quantity' },
    { name: 'bad timestamp', payload: withData({ timestamp: 'yesterday' }), reason: 'invalid_timestamp' },
    { name: 'timestamp without zone', payload: withData({ timestamp: '2025-02-18T14:34:56' }), reason: 'invalid_timestamp' },
    { name: 'impossible date', payload: withData({ timestamp: '2025-02-31T14:34:56Z' }), reason: 'invalid_timestamp' },
    { name: 'bad source', payload: encode({ ...envelope(), source: 'warehouse 7' }), reason: 'invalid_field' },
    { name: 'wrong type', payload: encode({ ...envelope(), type: 'ru.retail.other' }), reason: 'invalid_field' },
    { name: 'time as string', payload: encode({ ...envelope(), time: 'now' }), reason: 'invalid_field' },
    { name: 'time beyond any date', payload: encode({ ...envelope(), time: 1e20 }), reason: 'invalid_timestamp' },
    { name: 'timestamp in year 0', payload: withData({ timestamp: '0000-01-01T00:00:00Z' }), reason: 'invalid_timestamp' },
    { name: 'timestamp in year 10000 UTC after its offset', payload: withData({ timestamp: '9999-12-31T23:59:59-12:00' }), reason: 'invalid_timestamp' },
    { name: 'time past year 9999', payload: encode({ ...envelope(), time: Date.parse('9999-12-31T23:59:59.999Z') + 1 }), reason: 'invalid_timestamp' },
    { name: 'time before year 1', payload: encode({ ...envelope(), time: Date.parse('0001-01-01T00:00:00Z') - 1 }), reason: 'invalid_timestamp' },
  ];
}
