import type { Envelope } from '../../lib/event.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { produce } from '../../lib/testing/kafka.js';

/**
 * A generated stream with known truth for processor tests: supplies, movements with losses,
 * arrivals before their departures, departures the stock cannot cover, and the hard cases, each
 * placed a random distance later in the stream (so across batches) and sometimes in another
 * partition:
 *
 * - producer duplicates: the same message (same id) sent again, by a producer that keyed it by
 *   its warehouse (same partition) or did not (another partition, so it may even be read first);
 * - twins: a second departure or arrival of a movement under a new id, from the same warehouse
 *   (same partition) or from another one (another partition: which twin wins depends on how the
 *   partitions interleave, and the oracle accepts exactly the legal outcomes);
 * - unless `edgeCases` is false (design.md 3 "Edge cases"): a message id reused with different content (the
 *   data of a later event of the same partition, placed before that event), and movements whose
 *   arrival names another product than the departure.
 *
 * Every message names its partition: warehouse i goes to partition i mod PARTITIONS, as a
 * producer keying by warehouse would place it, and a copy sent elsewhere names another.
 */

/** Partitions of every topic in the tests: the mock cluster auto-creates topics with 4 (design.md 6). */
export const PARTITIONS = 4;

export interface StreamMessage {
  envelope: Envelope;
  /** The Kafka key: the warehouse id, or another warehouse's for a copy a producer sent elsewhere. */
  key: string;
  partition: number;
}

/** A stream message with the offset the broker stored it at. */
export interface ProducedMessage extends StreamMessage {
  topic: string;
  offset: number;
}

export interface StreamOptions {
  movements: number;
  /** At least 2, so a copy can move to another partition; more than PARTITIONS fills them all. */
  warehouses?: number;
  products?: number;
  seed?: number;
  /** Producer duplicates and twins, spread across batches and partitions (default on). */
  hardCases?: boolean;
  /** Reused message ids with different content and movements naming two products (default on). */
  edgeCases?: boolean;
  /** How far later (in messages) a copy lands at most: a few batches of the tests' sizes. */
  spread?: number;
}

/** What a generated stream contains, so a test can check it exercises what it claims to. */
export interface StreamCounts {
  duplicates: number;
  crossPartitionDuplicates: number;
  twins: number;
  crossPartitionTwins: number;
  reusedIds: number;
  productMismatches: number;
}

/** A seeded PRNG (mulberry32), so a failing stream can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateStream(options: StreamOptions): StreamMessage[] & { counts: StreamCounts } {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const uuid = (): string => {
    const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
  const warehouseCount = options.warehouses ?? 6;
  if (warehouseCount < 2) throw new Error('generateStream: at least 2 warehouses, so a copy can go to another partition');
  const warehouses = Array.from({ length: warehouseCount }, uuid);
  const products = Array.from({ length: options.products ?? 10 }, uuid);
  const partitionOf = (warehouse: string): number => warehouses.indexOf(warehouse) % PARTITIONS;
  const at = (minutes: number): string => new Date(Date.UTC(2025, 1, 18, 8, 0) + minutes * 60_000).toISOString();
  const hardCases = options.hardCases ?? true;
  const edgeCases = options.edgeCases ?? true;
  const spread = options.spread ?? 600;
  const counts: StreamCounts = { duplicates: 0, crossPartitionDuplicates: 0, twins: 0, crossPartitionTwins: 0, reusedIds: 0, productMismatches: 0 };

  const keyed = (event: Envelope): StreamMessage => ({ envelope: event, key: event.data.warehouse_id, partition: partitionOf(event.data.warehouse_id) });
  /** The same envelope sent by a producer that keyed it by another warehouse: another partition. */
  const elsewhere = (event: Envelope): StreamMessage => {
    const own = partitionOf(event.data.warehouse_id);
    const other = pick(warehouses.filter((w) => partitionOf(w) !== own));
    return { envelope: event, key: other, partition: partitionOf(other) };
  };
  const otherWarehouse = (than: string, samePartition: boolean): string | undefined => {
    const candidates = warehouses.filter((w) => w !== than && (partitionOf(w) === partitionOf(than)) === samePartition);
    return candidates.length > 0 ? pick(candidates) : undefined;
  };

  const base: StreamMessage[] = [];
  /** Copies to insert after base[index], in the order they were drawn. */
  const inserts = new Map<number, StreamMessage[]>();
  const later = (index: number, message: StreamMessage): void => {
    const after = index + 1 + Math.floor(random() * spread);
    inserts.set(after, [...(inserts.get(after) ?? []), message]);
  };

  // Modest supplies: enough that most departures are covered and some are not.
  for (const warehouse of warehouses) {
    for (const product of products) {
      if (random() < 0.7) base.push(keyed(envelope({ warehouse_id: warehouse, product_id: product, quantity: 5 + Math.floor(random() * 40), movement_id: uuid() }, { id: uuid() })));
    }
  }
  for (let i = 0; i < options.movements; i++) {
    const from = pick(warehouses);
    let to = pick(warehouses);
    if (to === from) to = warehouses[(warehouses.indexOf(from) + 1) % warehouses.length]!;
    const product = pick(products);
    const movement = uuid();
    const sent = 1 + Math.floor(random() * 30);
    const received = random() < 0.2 ? Math.max(1, sent - 1 - Math.floor(random() * 3)) : sent;
    const mismatch = edgeCases && random() < 0.02;
    const arrivalProduct = mismatch ? pick(products.filter((p) => p !== product)) : product;
    if (mismatch) counts.productMismatches++;
    const departure = envelope({ movement_id: movement, warehouse_id: from, product_id: product, event: 'departure', quantity: sent, timestamp: at(i) }, { id: uuid() });
    const arrival = envelope({ movement_id: movement, warehouse_id: to, product_id: arrivalProduct, event: 'arrival', quantity: received, timestamp: at(i + 90) }, { id: uuid() });
    const sides = random() < 0.15 ? [arrival, departure] : [departure, arrival];
    for (const side of sides) base.push(keyed(side));
    if (!hardCases) continue;

    const index = base.length - 1;
    if (random() < 0.05) {
      // A producer duplicate: the same message again, later.
      const copy = pick(sides);
      const crossPartition = random() < 0.5;
      later(index, crossPartition ? elsewhere(copy) : keyed(copy));
      counts.duplicates++;
      if (crossPartition) counts.crossPartitionDuplicates++;
    }
    if (random() < 0.04) {
      // A twin: the same side of the movement again under a new id, from this or another warehouse.
      const original = pick(sides);
      const crossPartition = random() < 0.5;
      const warehouse = random() < 0.3 ? original.data.warehouse_id : otherWarehouse(original.data.warehouse_id, !crossPartition);
      if (warehouse) {
        const twin = envelope({ ...original.data, warehouse_id: warehouse, quantity: 1 + Math.floor(random() * 30) }, { id: uuid() });
        later(index, keyed(twin));
        counts.twins++;
        if (partitionOf(warehouse) !== partitionOf(original.data.warehouse_id)) counts.crossPartitionTwins++;
      }
    }
  }

  const stream: StreamMessage[] = [];
  for (let index = 0; index < base.length; index++) {
    stream.push(base[index]!);
    for (const copy of inserts.get(index) ?? []) stream.push(copy);
  }
  // Copies drawn past the end go last, in order.
  for (const [index, copies] of [...inserts].sort(([a], [b]) => a - b)) if (index >= base.length) stream.push(...copies);

  if (edgeCases) {
    // A reused id: the data of a later event of the same partition under an earlier message's id,
    // placed just before that event. The first occurrence wins; the copy must not take the later
    // event's movement side or stock effect.
    for (let index = stream.length - 1; index > 0; index--) {
      if (random() >= 0.02) continue;
      const target = stream[index]!;
      const earlier = stream.slice(Math.max(0, index - spread), index).filter((m) => m.partition === target.partition && m.envelope.id !== target.envelope.id);
      if (earlier.length === 0) continue;
      const original = pick(earlier).envelope;
      stream.splice(index, 0, { envelope: { ...original, data: { ...target.envelope.data } }, key: target.key, partition: target.partition });
      counts.reusedIds++;
    }
  }
  return Object.assign(stream, { counts });
}

/** Produces the stream in order, each message to its partition with its key (paced when asked); resolves with the offsets. */
export async function produceStream(topic: string, stream: readonly StreamMessage[], options: { perSecond?: number } = {}): Promise<ProducedMessage[]> {
  const positions = await produce(
    topic,
    stream.map((message) => ({ value: encode(message.envelope), key: message.key, partition: message.partition })),
    options,
  );
  return stream.map((message, index) => {
    const position = positions[index]!;
    if (position.partition !== message.partition) throw new Error(`message ${index} went to partition ${position.partition}, not ${message.partition}`);
    return { ...message, topic, offset: position.offset };
  });
}

/** Produces envelopes in order, keyed by warehouse id as producers should key them (the partitioner picks the partition). */
export async function produceKeyed(topic: string, events: readonly Envelope[]): Promise<void> {
  await produce(topic, events.map((event) => ({ value: encode(event), key: event.data.warehouse_id })));
}
