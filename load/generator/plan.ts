import { MAX_QUANTITY, wrapInEnvelope, type DeadLetterReason, type Envelope } from '../../lib/event.js';
import { buildInvalid } from './invalid.js';
import { Random } from './random.js';

/**
 * The event generator's plan: a reproducible stream of messages that looks like a retailer's
 * warehouses at work. It opens with supply arrivals (goods from outside the network) so that
 * departures have stock, then moves goods between warehouses: a departure, and its arrival a
 * transit delay (counted in messages) later, some received short (loss in transit), some whose
 * arrival message comes before the departure message (late departure report). Mixed in at the
 * requested shares: producer duplicates (an envelope re-sent byte for byte), invalid messages, and
 * replenishing supplies. Keys are warehouse ids, as producers should key them.
 *
 * Everything random comes from one seeded PRNG, so one seed gives one stream, ids included;
 * only `clock` (the envelope `time`) may bring the real time in.
 */

export type PlannedKind = 'supply' | 'departure' | 'arrival' | 'duplicate' | 'invalid';

export interface PlannedMessage {
  /** Position in the stream, from 0. */
  step: number;
  kind: PlannedKind;
  /** Kafka key: the warehouse id the event belongs to. */
  key: string;
  value: Buffer;
  /** The envelope of a valid message (also of a duplicate: the one re-sent). */
  envelope?: Envelope;
  /** An arrival whose movement's departure message comes later. */
  late?: boolean;
  /** An arrival with fewer units received than sent. */
  loss?: boolean;
  /** A departure planned to exceed the stock (the processor rejects it: insufficient_stock). */
  overdraft?: boolean;
  /** The dead-letter reason an invalid message must get. */
  expectedReason?: DeadLetterReason;
}

export interface PlanOptions {
  seed: number | string;
  warehouses: number;
  products: number;
  /** Supply arrivals at the start of the stream; default min(warehouses × products, 1000). */
  initialSupplies?: number;
  /** Share of later messages that are replenishing supplies. */
  supplyShare?: number;
  /** Share of movements whose arrival is received short. */
  lossShare?: number;
  /** Share of movements whose arrival message is produced before the departure message. */
  lateArrivalShare?: number;
  /** Share of messages that re-send an earlier valid message unchanged. */
  duplicateShare?: number;
  /** Share of messages the contract refuses. */
  invalidShare?: number;
  /** Share of departures that exceed the stock. */
  overdraftShare?: number;
  /** Messages between the two sides of a movement: [min, max]. */
  transitDelay?: [number, number];
  /** Largest quantity of one supply (departures take part of a key's stock). */
  maxSupplyQuantity?: number;
  /** data.timestamp of step 0, epoch ms; each step advances `stepMs`. */
  startTimeMs?: number;
  stepMs?: number;
  /** The envelope `time` (production time); default a virtual clock: event time. */
  clock?: (step: number) => number;
}

export const PLAN_DEFAULTS = {
  supplyShare: 0.1,
  lossShare: 0.05,
  lateArrivalShare: 0.05,
  duplicateShare: 0.01,
  invalidShare: 0.01,
  overdraftShare: 0.01,
  transitDelay: [10, 1000] as [number, number],
  maxSupplyQuantity: 500,
  startTimeMs: Date.UTC(2025, 0, 6, 8, 0, 0),
  stepMs: 1000,
};

interface Pending {
  due: number;
  order: number;
  envelope: Envelope;
  kind: 'departure' | 'arrival';
  late: boolean;
  loss: boolean;
  overdraft: boolean;
  /** Destination of a scheduled arrival: its quantity is added to the model when it is sent. */
  stockKey?: string;
}

/** Min-heap of scheduled sides of movements, by due step (then planning order, for stability). */
class Schedule {
  private readonly heap: Pending[] = [];
  get size(): number {
    return this.heap.length;
  }
  peek(): Pending | undefined {
    return this.heap[0];
  }
  push(item: Pending): void {
    const h = this.heap;
    h.push(item);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  pop(): Pending | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
const before = (a: Pending, b: Pending): boolean => a.due < b.due || (a.due === b.due && a.order < b.order);

/** Checks the options and fills in defaults; throws a RangeError naming the bad option. */
export function resolvePlanOptions(options: PlanOptions): Required<Omit<PlanOptions, 'clock'>> & Pick<PlanOptions, 'clock'> {
  const o = { ...PLAN_DEFAULTS, initialSupplies: Math.min(options.warehouses * options.products, 1000), ...options };
  const whole = (name: string, value: number, min: number): void => {
    if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  };
  whole('warehouses', o.warehouses, 2);
  whole('products', o.products, 1);
  whole('initialSupplies', o.initialSupplies, 0);
  whole('maxSupplyQuantity', o.maxSupplyQuantity, 1);
  for (const name of ['supplyShare', 'lossShare', 'lateArrivalShare', 'duplicateShare', 'invalidShare', 'overdraftShare'] as const) {
    const value = o[name];
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  }
  if (o.supplyShare + o.duplicateShare + o.invalidShare >= 1) {
    throw new RangeError('supplyShare + duplicateShare + invalidShare must leave room for movements (sum below 1)');
  }
  const [minDelay, maxDelay] = o.transitDelay;
  if (!Number.isInteger(minDelay) || !Number.isInteger(maxDelay) || minDelay < 1 || maxDelay < minDelay) {
    throw new RangeError(`transitDelay must be [min, max] with 1 <= min <= max, got [${minDelay}, ${maxDelay}]`);
  }
  return o;
}

/**
 * Plans messages lazily, without end: take as many as needed (`take`, or stop by time). Valid
 * messages validate against lib/event.ts; invalid ones carry the reason they must be refused for.
 */
export function* planMessages(options: PlanOptions): Generator<PlannedMessage, never, undefined> {
  const o = resolvePlanOptions(options);
  const random = new Random(o.seed);
  const { warehouseIds, productIds } = drawKeyIds(random, o.warehouses, o.products);
  const warehouses = warehouseIds.map((id, i) => ({ id, source: warehouseSource(i) }));
  const products = productIds;
  // What the plan believes the stock to be: a departure reserves its units when planned.
  const stock = new Map<string, number>();
  const stocked: string[] = [];
  const schedule = new Schedule();
  const recent: { key: string; value: Buffer; envelope: Envelope }[] = [];
  let order = 0;
  let sent = 0;

  const keyOf = (w: number, p: number): string => `${w}:${p}`;
  const addStock = (key: string, quantity: number): void => {
    const before = stock.get(key) ?? 0;
    if (before === 0) stocked.push(key);
    stock.set(key, before + quantity);
  };
  const timestampOf = (step: number): string => new Date(o.startTimeMs + step * o.stepMs).toISOString();
  const clock = o.clock ?? ((step: number) => o.startTimeMs + step * o.stepMs);
  const envelopeFor = (step: number, w: number, p: number, event: 'arrival' | 'departure', quantity: number, movementId: string, eventStep = step): Envelope => {
    const warehouse = warehouses[w]!;
    const data = { movement_id: movementId, warehouse_id: warehouse.id, timestamp: timestampOf(eventStep), event, product_id: products[p]!, quantity };
    return wrapInEnvelope(data, { id: random.uuid(), source: warehouse.source, timeMs: clock(step) });
  };
  const emit = (step: number, kind: PlannedKind, envelope: Envelope, extra: Partial<PlannedMessage> = {}): PlannedMessage => {
    const value = Buffer.from(JSON.stringify(envelope));
    recent[sent++ % 1000] = { key: envelope.data.warehouse_id, value, envelope };
    return { step, kind, key: envelope.data.warehouse_id, value, envelope, ...extra };
  };
  const supply = (step: number, w: number, p: number): PlannedMessage => {
    const quantity = random.int(Math.ceil(o.maxSupplyQuantity / 5), o.maxSupplyQuantity);
    addStock(keyOf(w, p), quantity);
    return emit(step, 'supply', envelopeFor(step, w, p, 'arrival', quantity, random.uuid()));
  };

  // Supplies for distinct keys first, spread over warehouses and products.
  let step = 0;
  const firstKeys = new Set<string>();
  while (step < o.initialSupplies) {
    const w = random.int(0, o.warehouses - 1);
    const p = random.int(0, o.products - 1);
    if (firstKeys.has(keyOf(w, p)) && firstKeys.size < o.warehouses * o.products) continue;
    firstKeys.add(keyOf(w, p));
    yield supply(step++, w, p);
  }

  for (; ; step++) {
    // Invalid messages, duplicates and supplies are rolled first on every step, so that their
    // shares hold for the whole stream; the rest of the steps carry movements, each two messages.
    const roll = random.next();
    if (roll < o.invalidShare) {
      const w = random.int(0, o.warehouses - 1);
      const valid = envelopeFor(step, w, random.int(0, o.products - 1), 'arrival', random.int(1, 100), random.uuid());
      const { payload, kind } = buildInvalid(valid, random);
      yield { step, kind: 'invalid', key: warehouses[w]!.id, value: payload, expectedReason: kind.reason };
      continue;
    }
    if (roll < o.invalidShare + o.duplicateShare && recent.length > 0) {
      const original = recent[random.int(0, recent.length - 1)]!;
      yield { step, kind: 'duplicate', key: original.key, value: original.value, envelope: original.envelope };
      continue;
    }
    if (roll < o.invalidShare + o.duplicateShare + o.supplyShare || stocked.length === 0) {
      yield supply(step, random.int(0, o.warehouses - 1), random.int(0, o.products - 1));
      continue;
    }
    const due = schedule.peek();
    if (due && due.due <= step) {
      schedule.pop();
      if (due.stockKey) addStock(due.stockKey, due.envelope.data.quantity);
      const envelope = { ...due.envelope, time: clock(step) };
      yield emit(step, due.kind, envelope, due.kind === 'arrival' ? { late: due.late, loss: due.loss } : due.overdraft ? { overdraft: true } : {});
      continue;
    }
    yield planMovement(step);
  }

  /** Plans one movement: returns its first message and schedules the other side. */
  function planMovement(step: number): PlannedMessage {
    // A random stocked key; keys emptied by earlier departures are dropped from the list lazily.
    let key = '';
    let available = 0;
    while (stocked.length > 0) {
      const index = random.int(0, stocked.length - 1);
      key = stocked[index]!;
      available = stock.get(key) ?? 0;
      if (available > 0) break;
      stocked[index] = stocked[stocked.length - 1]!;
      stocked.pop();
    }
    if (available <= 0) return supply(step, random.int(0, o.warehouses - 1), random.int(0, o.products - 1));
    const [w, p] = key.split(':').map(Number) as [number, number];
    const overdraft = random.chance(o.overdraftShare);
    const sent = overdraft ? Math.min(available + random.int(1, 50), MAX_QUANTITY) : random.int(1, Math.max(1, Math.ceil(available / 2)));
    if (!overdraft) stock.set(key, available - sent);
    let to = random.int(0, o.warehouses - 2);
    if (to >= w) to++;
    const loss = random.chance(o.lossShare) && sent > 1;
    const received = loss ? random.int(1, sent - 1) : sent;
    const movementId = random.uuid();
    const delay = random.int(o.transitDelay[0], o.transitDelay[1]);
    const departure = envelopeFor(step, w, p, 'departure', sent, movementId);
    // Goods really arrive after the delay whichever message comes first, so the arrival's event
    // time is always later; only the reports' order changes.
    const arrival = envelopeFor(step, to, p, 'arrival', received, movementId, step + delay);
    // Overdrafts are rejected by the processor, so the destination receives nothing real; its
    // arrival still comes and adds stock there in the processor, and so in the model.
    const stockKey = keyOf(to, p);
    if (random.chance(o.lateArrivalShare)) {
      addStock(stockKey, received);
      schedule.push({ due: step + delay, order: order++, envelope: departure, kind: 'departure', late: false, loss: false, overdraft });
      return emit(step, 'arrival', arrival, { late: true, loss });
    }
    schedule.push({ due: step + delay, order: order++, envelope: arrival, kind: 'arrival', late: false, loss, overdraft: false, stockKey });
    return emit(step, 'departure', departure, overdraft ? { overdraft: true } : {});
  }
}

/** The `source` of warehouse number `index` (from 0): `WH-1000`, `WH-1001`, ... */
export function warehouseSource(index: number): string {
  return `WH-${1000 + index}`;
}

function drawKeyIds(random: Random, warehouses: number, products: number): { warehouseIds: string[]; productIds: string[] } {
  const warehouseIds = Array.from({ length: warehouses }, () => random.uuid());
  const productIds = Array.from({ length: products }, () => random.uuid());
  return { warehouseIds, productIds };
}

/**
 * The warehouse and product ids a plan's stream uses (its first random draws), so that data made
 * outside the stream (the preload of `make profile-merge --preload`) names the same stock keys.
 */
export function planKeyIds(options: PlanOptions): { warehouseIds: string[]; productIds: string[] } {
  const o = resolvePlanOptions(options);
  return drawKeyIds(new Random(o.seed), o.warehouses, o.products);
}

/** The first `count` messages of a plan. */
export function takeMessages(options: PlanOptions, count: number): PlannedMessage[] {
  const out: PlannedMessage[] = [];
  if (count <= 0) return out;
  for (const message of planMessages(options)) {
    out.push(message);
    if (out.length >= count) break;
  }
  return out;
}

/** Counts of a planned stream by kind and flag. */
export function summarizePlan(messages: Iterable<PlannedMessage>): Record<PlannedKind | 'late' | 'loss' | 'overdraft' | 'total', number> {
  const counts = { total: 0, supply: 0, departure: 0, arrival: 0, duplicate: 0, invalid: 0, late: 0, loss: 0, overdraft: 0 };
  for (const m of messages) {
    counts.total++;
    counts[m.kind]++;
    if (m.late) counts.late++;
    if (m.loss) counts.loss++;
    if (m.overdraft) counts.overdraft++;
  }
  return counts;
}
