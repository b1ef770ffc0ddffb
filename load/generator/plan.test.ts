import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../lib/event.js';
import { INVALID_KINDS } from './invalid.js';
import { planMessages, resolvePlanOptions, summarizePlan, takeMessages, type PlanOptions } from './plan.js';
import { Random } from './random.js';

const base: PlanOptions = {
  seed: 42,
  warehouses: 20,
  products: 50,
  initialSupplies: 200,
  supplyShare: 0.1,
  lossShare: 0.2,
  lateArrivalShare: 0.1,
  duplicateShare: 0.03,
  invalidShare: 0.04,
  overdraftShare: 0.02,
  transitDelay: [5, 50],
};

describe('Random', () => {
  it('repeats a sequence for a seed and differs across seeds', () => {
    const draw = (seed: number | string) => {
      const r = new Random(seed);
      return Array.from({ length: 5 }, () => r.uint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw('abc')).toEqual(draw('abc'));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('formats UUIDs as version 4 and draws integers within bounds', () => {
    const r = new Random(7);
    for (let i = 0; i < 1000; i++) {
      expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const n = r.int(-3, 3);
      expect(n).toBeGreaterThanOrEqual(-3);
      expect(n).toBeLessThanOrEqual(3);
    }
  });
});

describe('planMessages', () => {
  const messages = takeMessages(base, 20_000);
  const counts = summarizePlan(messages);
  const later = messages.length - 200;

  it('opens with supply arrivals for distinct keys', () => {
    const first = messages.slice(0, 200);
    expect(first.every((m) => m.kind === 'supply' && m.envelope?.data.event === 'arrival')).toBe(true);
    expect(new Set(first.map((m) => `${m.envelope?.data.warehouse_id}:${m.envelope?.data.product_id}`)).size).toBe(200);
  });

  it('plans the requested shares of invalid messages, duplicates, supplies, losses and late arrivals', () => {
    expect(counts.total).toBe(20_000);
    // Binomial spread at n ≈ 20k is well under 0.5 percentage points; 1.5 points of tolerance.
    expect(Math.abs(counts.invalid / later - 0.04)).toBeLessThan(0.015);
    expect(Math.abs(counts.duplicate / later - 0.03)).toBeLessThan(0.015);
    expect(Math.abs((counts.supply - 200) / later - 0.1)).toBeLessThan(0.015);
    const movements = counts.departure; // one departure per movement, sent first or late
    expect(Math.abs(counts.late / movements - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(counts.loss / counts.arrival - 0.2)).toBeLessThan(0.03);
    expect(Math.abs(counts.overdraft / movements - 0.02)).toBeLessThan(0.015);
    // Movements are most of the stream, and nearly every departure's arrival comes within it.
    expect(counts.departure + counts.arrival).toBeGreaterThan(0.7 * later);
    expect(Math.abs(counts.arrival - counts.departure)).toBeLessThan(200);
  });

  it('gives one stream per seed, ids and bytes included, and another stream for another seed', () => {
    const again = takeMessages(base, 20_000);
    expect(again.map((m) => m.value.toString('base64'))).toEqual(messages.map((m) => m.value.toString('base64')));
    expect(again.map((m) => m.key)).toEqual(messages.map((m) => m.key));
    const other = takeMessages({ ...base, seed: 43 }, 1000);
    expect(other[0]?.envelope?.id).not.toBe(messages[0]?.envelope?.id);
    const sharedIds = new Set(messages.slice(0, 1000).flatMap((m) => (m.envelope ? [m.envelope.id] : [])));
    expect(other.filter((m) => m.envelope && sharedIds.has(m.envelope.id)).length).toBe(0);
  });

  it('emits valid messages that validate, keyed by their warehouse, and invalid ones with their reason', () => {
    const seen = new Set<string>();
    for (const m of messages) {
      const decoded = decodeMessage(m.value);
      if (m.kind === 'invalid') {
        expect(decoded.ok, `step ${m.step} should be refused`).toBe(false);
        if (!decoded.ok) expect(decoded.reason).toBe(m.expectedReason);
        continue;
      }
      expect(decoded.ok, `step ${m.step} should validate`).toBe(true);
      if (!decoded.ok) continue;
      expect(m.key).toBe(decoded.event.warehouseId);
      if (m.kind === 'duplicate') expect(seen.has(decoded.event.messageId)).toBe(true);
      else expect(seen.has(decoded.event.messageId)).toBe(false);
      seen.add(decoded.event.messageId);
    }
  });

  it('produces every kind of invalid message at some point', () => {
    const many = takeMessages({ ...base, invalidShare: 0.5, duplicateShare: 0, supplyShare: 0.1 }, 5000);
    const reasons = new Set(many.filter((m) => m.kind === 'invalid').map((m) => m.expectedReason));
    expect(reasons).toEqual(new Set(INVALID_KINDS.map((k) => k.reason)));
  });

  it('pairs each movement: one departure and one arrival, the arrival later in time, losses received short', () => {
    const byMovement = new Map<string, { departure?: number; arrival?: number; sent?: number; received?: number; depTime?: number; arrTime?: number }>();
    for (const m of messages) {
      if (m.kind !== 'departure' && m.kind !== 'arrival') continue;
      const d = m.envelope!.data;
      const entry = byMovement.get(d.movement_id) ?? {};
      if (d.event === 'departure') Object.assign(entry, { departure: m.step, sent: d.quantity, depTime: Date.parse(d.timestamp) });
      else Object.assign(entry, { arrival: m.step, received: d.quantity, arrTime: Date.parse(d.timestamp) });
      byMovement.set(d.movement_id, entry);
    }
    let complete = 0;
    for (const entry of byMovement.values()) {
      if (entry.departure === undefined || entry.arrival === undefined) continue;
      complete++;
      expect(entry.arrTime).toBeGreaterThan(entry.depTime!);
      expect(entry.received).toBeLessThanOrEqual(entry.sent!);
    }
    expect(complete).toBeGreaterThan(byMovement.size * 0.95);
  });

  it('keeps departures covered by the stock it planned, except the overdrafts it meant', () => {
    const stock = new Map<string, number>();
    let uncovered = 0;
    for (const m of messages) {
      if (!m.envelope || m.kind === 'duplicate') continue;
      const d = m.envelope.data;
      const key = `${d.warehouse_id}:${d.product_id}`;
      const have = stock.get(key) ?? 0;
      if (d.event === 'arrival') stock.set(key, have + d.quantity);
      else if (have >= d.quantity) stock.set(key, have - d.quantity);
      else if (!m.overdraft) uncovered++;
    }
    expect(uncovered).toBe(0);
  });

  it('refuses bad options with the option named', () => {
    expect(() => resolvePlanOptions({ ...base, warehouses: 1 })).toThrow(/warehouses/);
    expect(() => resolvePlanOptions({ ...base, lossShare: 2 })).toThrow(/lossShare/);
    expect(() => resolvePlanOptions({ ...base, transitDelay: [5, 1] })).toThrow(/transitDelay/);
    expect(() => resolvePlanOptions({ ...base, invalidShare: 0.5, supplyShare: 0.6 })).toThrow(/sum below 1/);
    expect(planMessages(base).next().done).toBe(false);
  });
});
