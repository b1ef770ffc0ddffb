import type { Envelope } from '../../lib/event.js';
import { stockStatusFor, type RejectReason, type StockStatus } from '../../lib/terms.js';

/**
 * The semantics of ../shared/design.md section 3 applied one event at a time, in memory: the
 * truth the processor's database must end in, for events fed in the order they were applied.
 *
 * - Ledger: every message id once, the first occurrence's content; later copies of an id (a
 *   redelivery, a producer duplicate, or the id reused with other content) change nothing.
 * - A second departure (or arrival) of a movement under another id: `duplicate_movement_event`,
 *   no stock effect, not part of the movement.
 * - Arrivals add to (warehouse, product); a departure the stock cannot cover is
 *   `insufficient_stock` and changes nothing, but is still its movement's departure.
 * - Each side's stock effect follows its own (warehouse, product); a movement whose sides name
 *   two products keeps both and is flagged.
 * - Status: `out_of_stock` at 0, `low` at or below the threshold, else `available`; every change
 *   is logged, in order.
 */

export type Outcome = 'applied' | RejectReason;

export interface LedgerTruth {
  /** The content that took effect: the first occurrence of the id. */
  envelope: Envelope;
  outcome: Outcome;
  /** Stock of the event's (warehouse, product) right after it (unchanged when rejected). */
  stockAfter: number;
}

export interface StockTruth {
  quantity: number;
  status: StockStatus;
  /** The last event that changed the row. */
  lastMessageId: string;
}

export interface SideTruth {
  messageId: string;
  warehouseId: string;
  productId: string;
  quantity: number;
  /** data.timestamp as epoch milliseconds. */
  timeMs: number;
}

export interface MovementTruth {
  departure?: SideTruth;
  arrival?: SideTruth;
}

export interface StatusChangeTruth {
  warehouseId: string;
  productId: string;
  previousStatus: StockStatus;
  status: StockStatus;
  quantity: number;
  messageId: string;
}

/** `warehouse/product`, the key of stock rows in the oracle and the assertions. */
export function stockKey(warehouseId: string, productId: string): string {
  return `${warehouseId}/${productId}`;
}

export class Oracle {
  readonly ledger = new Map<string, LedgerTruth>();
  readonly stock = new Map<string, StockTruth>();
  readonly movements = new Map<string, MovementTruth>();
  readonly statusChanges: StatusChangeTruth[] = [];

  constructor(readonly lowThreshold = 10) {}

  /** The oracle after `events`, applied in order. */
  static of(events: readonly Envelope[], lowThreshold = 10): Oracle {
    const oracle = new Oracle(lowThreshold);
    for (const event of events) oracle.apply(event);
    return oracle;
  }

  /** Outcome of each message id, for tests that only need those. */
  get outcomes(): Map<string, Outcome> {
    return new Map([...this.ledger].map(([id, truth]) => [id, truth.outcome]));
  }

  /**
   * Applies one event; returns its ledger entry, or undefined when its id was seen before (then
   * nothing changes, whatever the copy says).
   */
  apply(envelope: Envelope): LedgerTruth | undefined {
    const id = envelope.id.toLowerCase();
    if (this.ledger.has(id)) return undefined;
    const d = envelope.data;
    const warehouseId = d.warehouse_id.toLowerCase();
    const productId = d.product_id.toLowerCase();
    const key = stockKey(warehouseId, productId);
    const before = this.stock.get(key)?.quantity ?? 0;
    const record = (outcome: Outcome, stockAfter: number): LedgerTruth => {
      const truth = { envelope, outcome, stockAfter };
      this.ledger.set(id, truth);
      return truth;
    };

    const movementId = d.movement_id.toLowerCase();
    const movement = this.movements.get(movementId) ?? {};
    if (movement[d.event]) return record('duplicate_movement_event', before);
    movement[d.event] = { messageId: id, warehouseId, productId, quantity: d.quantity, timeMs: Date.parse(d.timestamp) };
    this.movements.set(movementId, movement);

    let after: number;
    if (d.event === 'arrival') after = before + d.quantity;
    else if (before >= d.quantity) after = before - d.quantity;
    else return record('insufficient_stock', before);

    const previousStatus = this.stock.get(key)?.status ?? 'out_of_stock';
    const status = stockStatusFor(after, this.lowThreshold);
    this.stock.set(key, { quantity: after, status, lastMessageId: id });
    if (status !== previousStatus) this.statusChanges.push({ warehouseId, productId, previousStatus, status, quantity: after, messageId: id });
    return record('applied', after);
  }
}

/** The movement's product as the API and the `product_id` column show it: the departure's, else the arrival's. */
export function movementProduct(movement: MovementTruth): string {
  return (movement.departure ?? movement.arrival)!.productId;
}
