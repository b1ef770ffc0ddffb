import { MAX_MESSAGE_BYTES, MAX_QUANTITY, type DeadLetterReason, type Envelope } from '../../lib/event.js';
import type { Random } from './random.js';

/**
 * Broken messages for the load generator: one builder per kind of message the event contract
 * refuses (../shared/design.md section 2), each with the dead-letter reason the processor must give
 * it. Built from a valid envelope so that everything but the one defect looks real.
 */

export interface InvalidKind {
  name: string;
  reason: DeadLetterReason;
  build(valid: Envelope, random: Random): Buffer;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const withData = (valid: Envelope, patch: Record<string, unknown>): Buffer => json({ ...valid, data: { ...valid.data, ...patch } });
const without = (valid: Envelope, field: string): Buffer => {
  const copy: Record<string, unknown> = { ...valid };
  delete copy[field];
  return json(copy);
};
const withoutData = (valid: Envelope, field: string): Buffer => {
  const data: Record<string, unknown> = { ...valid.data };
  delete data[field];
  return json({ ...valid, data });
};

export const INVALID_KINDS: readonly InvalidKind[] = [
  // A message cut short, as a crashed producer leaves it.
  { name: 'truncated JSON', reason: 'malformed_json', build: (v, r) => { const text = JSON.stringify(v); return Buffer.from(text.slice(0, r.int(1, text.length - 2))); } },
  { name: 'empty', reason: 'malformed_json', build: () => Buffer.alloc(0) },
  { name: 'not an object', reason: 'invalid_field', build: (_v, r) => json([r.int(0, 9), r.int(0, 9)]) },
  { name: 'oversized', reason: 'oversized_message', build: (v) => json({ ...v, padding: 'x'.repeat(MAX_MESSAGE_BYTES) }) },
  { name: 'missing id', reason: 'missing_field', build: (v) => without(v, 'id') },
  { name: 'missing quantity', reason: 'missing_field', build: (v) => withoutData(v, 'quantity') },
  { name: 'bad message id', reason: 'invalid_uuid', build: (v, r) => json({ ...v, id: `msg-${r.int(1, 1e6)}` }) },
  { name: 'bad warehouse id', reason: 'invalid_uuid', build: (v, r) => withData(v, { warehouse_id: String(r.int(1, 9999)) }) },
  { name: 'unknown event', reason: 'unknown_event', build: (v) => withData(v, { event: 'teleport' }) },
  { name: 'zero quantity', reason: 'invalid_quantity', build: (v) => withData(v, { quantity: 0 }) },
  { name: 'negative quantity', reason: 'invalid_quantity', build: (v, r) => withData(v, { quantity: -r.int(1, 100) }) },
  { name: 'fractional quantity', reason: 'invalid_quantity', build: (v, r) => withData(v, { quantity: r.int(1, 100) + 0.5 }) },
  { name: 'oversized quantity', reason: 'invalid_quantity', build: (v) => withData(v, { quantity: MAX_QUANTITY + 1 }) },
  { name: 'bad timestamp', reason: 'invalid_timestamp', build: (v) => withData(v, { timestamp: 'yesterday' }) },
  { name: 'timestamp without zone', reason: 'invalid_timestamp', build: (v) => withData(v, { timestamp: v.data.timestamp.replace(/(\.\d+)?Z$/, '') }) },
  { name: 'bad source', reason: 'invalid_field', build: (v) => json({ ...v, source: 'warehouse 7' }) },
];

/** A broken message of a random kind, derived from `valid`. */
export function buildInvalid(valid: Envelope, random: Random): { payload: Buffer; kind: InvalidKind } {
  const kind = random.pick(INVALID_KINDS);
  return { payload: kind.build(valid, random), kind };
}
