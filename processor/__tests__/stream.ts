import type { Envelope } from '../../lib/event.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { produce } from '../../lib/testing/kafka.js';

/**
 * A generated stream with known truth for processor tests: supplies, movements with losses,
 * arrivals before their departures, departures the stock cannot cover, producer duplicates (same
 * id) and duplicate movement events (same movement, new id), many keys per batch.
 */
export interface StreamOptions {
  movements: number;
  warehouses?: number;
  products?: number;
  seed?: number;
}

export function generateStream(options: StreamOptions): Envelope[] {
  let state = options.seed ?? 42;
  // mulberry32: a tiny seeded PRNG, so a failing stream can be replayed.
  const random = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const uuid = (): string => {
    const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
  const warehouses = Array.from({ length: options.warehouses ?? 6 }, uuid);
  const products = Array.from({ length: options.products ?? 10 }, uuid);
  const at = (minutes: number): string => new Date(Date.UTC(2025, 1, 18, 8, 0) + minutes * 60_000).toISOString();

  const stream: Envelope[] = [];
  // Modest supplies: enough that most departures are covered and some are not.
  for (const warehouse of warehouses) {
    for (const product of products) {
      if (random() < 0.7) stream.push(envelope({ warehouse_id: warehouse, product_id: product, quantity: 5 + Math.floor(random() * 40), movement_id: uuid() }, { id: uuid() }));
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
    const departure = envelope({ movement_id: movement, warehouse_id: from, product_id: product, event: 'departure', quantity: sent, timestamp: at(i) }, { id: uuid() });
    const arrival = envelope({ movement_id: movement, warehouse_id: to, product_id: product, event: 'arrival', quantity: received, timestamp: at(i + 90) }, { id: uuid() });
    if (random() < 0.15) stream.push(arrival, departure);
    else stream.push(departure, arrival);
    if (random() < 0.05) stream.push(departure); // producer duplicate: same id
    if (random() < 0.03) stream.push(envelope({ ...departure.data }, { id: uuid() })); // same movement, new id
  }
  return stream;
}

/** Produces envelopes in order, keyed by warehouse id as producers should key them. */
export function produceKeyed(topic: string, stream: readonly Envelope[]): Promise<void> {
  return produce(topic, stream.map((event) => ({ value: encode(event), key: event.data.warehouse_id })));
}
