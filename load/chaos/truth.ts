/**
 * The campaign's stream and its truth, through a small interface so the oracle behind it can
 * change (processor/__tests__/oracle.ts and stream.ts, the ones the tests use, are the only
 * imports to adapt): a seeded stream of keyed messages, valid and invalid, and what the database
 * must end in after it, whatever faults happened on the way.
 */
import type { Envelope } from '../../lib/event.js';
import { brokenMessages, encode } from '../../lib/testing/envelopes.js';
import { Oracle, type SideTruth } from '../../processor/__tests__/oracle.js';
import { generateStream } from '../../processor/__tests__/stream.js';

/** What the database must hold after the stream (../shared/design.md section 3). */
export interface Truth {
  /** Ledger outcome per message id: `applied`, or the reject reason. */
  outcomes: ReadonlyMap<string, string>;
  /** Stock per `warehouse/product`. */
  stock: ReadonlyMap<string, number>;
  /** Per movement id: each side's warehouse and quantity. */
  movements: ReadonlyMap<string, { departure?: { warehouse: string; quantity: number }; arrival?: { warehouse: string; quantity: number } }>;
  statusChanges: number;
}

export interface ChaosMessage {
  value: Buffer | null;
  key: string;
  /**
   * The partition the stream places it in (warehouse i in partition i mod 4): a reused id's copy
   * must share a partition with its first occurrence for the production order to be the truth's,
   * which the producer's hash of the key would not guarantee.
   */
  partition: number;
  /** The valid event it carries; none for an invalid message. */
  envelope?: Envelope;
}

export interface ChaosStream {
  messages: ChaosMessage[];
  /** The truth after the first `sent` messages (a campaign may stop producing early). */
  truthAfter(sent: number): Truth;
}

export interface StreamOptions {
  seed: number;
  /** About 2.15 messages per movement (its two sides, supplies, duplicates). */
  movements: number;
  /** One invalid message after every this many valid ones (0: none). */
  invalidEvery: number;
}

/** A seeded stream keyed by warehouse, with invalid messages sprinkled in, and its truth. */
export function chaosStream(options: StreamOptions): ChaosStream {
  // Without the hard cases (copies sent to another warehouse's partition) the stream's order
  // within each partition is the only order that matters, so the oracle can replay it in
  // production order whatever the faults interleave.
  const valid = generateStream({ movements: options.movements, seed: options.seed, warehouses: 12, products: 20, hardCases: false });
  const broken = brokenMessages();
  const messages: ChaosMessage[] = [];
  let invalid = 0;
  valid.forEach(({ envelope: event, key, partition }, index) => {
    messages.push({ value: encode(event), key, partition, envelope: event });
    if (options.invalidEvery > 0 && index % options.invalidEvery === options.invalidEvery - 1) {
      const message = broken[invalid % broken.length]!;
      messages.push({ value: message.payload, key, partition });
      invalid++;
    }
  });
  return {
    messages,
    truthAfter: (sent) => truthOf(Oracle.of(messages.slice(0, sent).flatMap((message) => (message.envelope ? [message.envelope] : [])))),
  };
}

function truthOf(oracle: Oracle): Truth {
  const side = (truth: SideTruth | undefined) => (truth ? { warehouse: truth.warehouseId, quantity: truth.quantity } : undefined);
  return {
    outcomes: oracle.outcomes,
    stock: new Map([...oracle.stock].map(([key, row]) => [key, row.quantity])),
    movements: new Map([...oracle.movements].map(([id, movement]) => [id, { departure: side(movement.departure), arrival: side(movement.arrival) }])),
    statusChanges: oracle.statusChanges.length,
  };
}
