import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { envelope } from '../../lib/testing/envelopes.js';
import { movementProduct, Oracle, stockKey } from './oracle.js';
import { generateStream, PARTITIONS } from './stream.js';

// The oracle is the truth every processor test compares against: its rules one by one (design.md
// section 3), and the generated stream's hard cases where the tests claim them.

describe('Oracle', () => {
  const w = randomUUID();
  const p = randomUUID();

  it('applies in order, rejects what stock cannot cover, and logs each status change', () => {
    const events = [
      envelope({ warehouse_id: w, product_id: p, quantity: 5 }),
      envelope({ warehouse_id: w, product_id: p, quantity: 20 }),
      envelope({ warehouse_id: w, product_id: p, event: 'departure', quantity: 30 }),
      envelope({ warehouse_id: w, product_id: p, event: 'departure', quantity: 25 }),
    ];
    const oracle = Oracle.of(events);
    expect(events.map((e) => oracle.ledger.get(e.id)?.outcome)).toEqual(['applied', 'applied', 'insufficient_stock', 'applied']);
    expect(events.map((e) => oracle.ledger.get(e.id)?.stockAfter)).toEqual([5, 25, 25, 0]);
    expect(oracle.stock.get(stockKey(w, p))).toEqual({ quantity: 0, status: 'out_of_stock', lastMessageId: events[3]!.id });
    expect(oracle.statusChanges.map((c) => `${c.previousStatus}>${c.status}@${c.quantity}`)).toEqual(['out_of_stock>low@5', 'low>available@25', 'available>out_of_stock@0']);
  });

  it('uses its threshold for low stock', () => {
    const oracle = Oracle.of([envelope({ warehouse_id: w, product_id: p, quantity: 20 })], 25);
    expect(oracle.stock.get(stockKey(w, p))?.status).toBe('low');
  });

  it('ignores a repeated id, whatever the copy says, and keeps the first content', () => {
    const first = envelope({ warehouse_id: w, product_id: p, quantity: 7 });
    const reused = { ...first, data: { ...first.data, quantity: 700, movement_id: randomUUID() } };
    const oracle = Oracle.of([first, first, reused]);
    expect(oracle.ledger.size).toBe(1);
    expect(oracle.ledger.get(first.id)?.envelope).toBe(first);
    expect(oracle.stock.get(stockKey(w, p))?.quantity).toBe(7);
    expect(oracle.movements.has(reused.data.movement_id)).toBe(false);
  });

  it('rejects a second side of a movement under another id, without stock effect', () => {
    const movement = randomUUID();
    const supply = envelope({ warehouse_id: w, product_id: p, quantity: 50 });
    const departure = envelope({ movement_id: movement, warehouse_id: w, product_id: p, event: 'departure', quantity: 10 });
    const twin = envelope({ movement_id: movement, warehouse_id: randomUUID(), product_id: p, event: 'departure', quantity: 10 });
    const oracle = Oracle.of([supply, departure, twin]);
    expect(oracle.ledger.get(twin.id)).toMatchObject({ outcome: 'duplicate_movement_event', stockAfter: 0 });
    expect(oracle.movements.get(movement)?.departure?.messageId).toBe(departure.id);
  });

  it('keeps a departure rejected for stock in its movement', () => {
    const movement = randomUUID();
    const departure = envelope({ movement_id: movement, warehouse_id: randomUUID(), product_id: p, event: 'departure', quantity: 10 });
    const oracle = Oracle.of([departure]);
    expect(oracle.ledger.get(departure.id)?.outcome).toBe('insufficient_stock');
    expect(oracle.movements.get(movement)?.departure).toMatchObject({ messageId: departure.id, quantity: 10 });
    expect(oracle.stock.size).toBe(0);
  });

  it('moves each side of a movement naming two products on its own product, and shows both', () => {
    const movement = randomUUID();
    const [from, to, sent, arrived] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const oracle = Oracle.of([
      envelope({ warehouse_id: from, product_id: sent, quantity: 10 }),
      envelope({ movement_id: movement, warehouse_id: from, product_id: sent, event: 'departure', quantity: 4 }),
      envelope({ movement_id: movement, warehouse_id: to, product_id: arrived, event: 'arrival', quantity: 4 }),
    ]);
    expect(oracle.stock.get(stockKey(from, sent))?.quantity).toBe(6);
    expect(oracle.stock.get(stockKey(to, arrived))?.quantity).toBe(4);
    const m = oracle.movements.get(movement)!;
    expect([m.departure?.productId, m.arrival?.productId, movementProduct(m)]).toEqual([sent, arrived, sent]);
  });
});

describe('generateStream', () => {
  // The hard cases alone (the edge cases add reused ids, which are neither duplicates nor copies elsewhere).
  const stream = generateStream({ movements: 1500, seed: 7, edgeCases: false });

  it('places every warehouse in one partition and copies elsewhere only on purpose', () => {
    const partitions = new Map<string, Set<number>>();
    for (const m of stream.filter((m) => m.key === m.envelope.data.warehouse_id)) {
      const set = partitions.get(m.envelope.data.warehouse_id) ?? new Set();
      set.add(m.partition);
      partitions.set(m.envelope.data.warehouse_id, set);
    }
    expect([...partitions.values()].every((set) => set.size === 1)).toBe(true);
    const moved = stream.filter((m) => m.key !== m.envelope.data.warehouse_id);
    expect(moved.length).toBe(stream.counts.crossPartitionDuplicates);
    expect(new Set(stream.map((m) => m.partition))).toEqual(new Set([...Array(PARTITIONS).keys()]));
  });

  it('spreads duplicates and twins over later batches and other partitions', () => {
    const firstIndex = new Map<string, number>();
    const distances: number[] = [];
    stream.forEach((m, index) => {
      const seen = firstIndex.get(m.envelope.id);
      if (seen === undefined) firstIndex.set(m.envelope.id, index);
      else distances.push(index - seen);
    });
    expect(distances.length).toBe(stream.counts.duplicates);
    expect(Math.max(...distances)).toBeGreaterThan(200);
    expect(distances.filter((d) => d > 1).length).toBeGreaterThan(distances.length / 2);
    expect(stream.counts.crossPartitionDuplicates).toBeGreaterThan(5);
    expect(stream.counts.crossPartitionTwins).toBeGreaterThan(5);
    expect(stream.counts.twins - stream.counts.crossPartitionTwins).toBeGreaterThan(5);
  });

  it('includes the edge cases unless told not to', () => {
    expect(stream.counts).toMatchObject({ reusedIds: 0, productMismatches: 0 });
    const edgy = generateStream({ movements: 1500, seed: 7 });
    expect(edgy.counts.reusedIds).toBeGreaterThan(5);
    expect(edgy.counts.productMismatches).toBeGreaterThan(5);
    // A reused id carries another event's data, in the same partition as its first occurrence.
    const first = new Map<string, (typeof edgy)[number]>();
    let reused = 0;
    for (const m of edgy) {
      const earlier = first.get(m.envelope.id);
      if (!earlier) first.set(m.envelope.id, m);
      else if (JSON.stringify(earlier.envelope.data) !== JSON.stringify(m.envelope.data)) {
        reused++;
        expect(m.partition).toBe(earlier.partition);
      }
    }
    expect(reused).toBe(edgy.counts.reusedIds);
  });

  it('is the same stream for the same seed', () => {
    expect(generateStream({ movements: 50, seed: 9 }).map((m) => m.envelope.id)).toEqual(generateStream({ movements: 50, seed: 9 }).map((m) => m.envelope.id));
  });
});
