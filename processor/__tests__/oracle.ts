import type { Envelope } from '../../lib/event.js';
import { stockStatusFor, type StockStatus } from '../../lib/terms.js';

/**
 * The semantics of ../shared/design.md section 3 applied one event at a time, in memory: the
 * truth the processor's database must end in. Feed events in the order one partition's consumer
 * reads them; with producers keying by warehouse, the result does not depend on how partitions
 * interleave.
 */
export class Oracle {
  readonly outcomes = new Map<string, string>();
  readonly stock = new Map<string, number>();
  readonly movements = new Map<string, { departure?: { warehouse: string; quantity: number; time: string }; arrival?: { warehouse: string; quantity: number; time: string } }>();
  statusChanges = 0;

  constructor(private readonly lowThreshold = 10) {}

  /** The oracle after `stream`, applied in order. */
  static of(stream: readonly Envelope[]): Oracle {
    const oracle = new Oracle();
    for (const event of stream) oracle.apply(event);
    return oracle;
  }

  apply(envelope: Envelope): void {
    if (this.outcomes.has(envelope.id)) return;
    const d = envelope.data;
    const movement = this.movements.get(d.movement_id) ?? {};
    if (movement[d.event]) {
      this.outcomes.set(envelope.id, 'duplicate_movement_event');
      return;
    }
    movement[d.event] = { warehouse: d.warehouse_id, quantity: d.quantity, time: d.timestamp };
    this.movements.set(d.movement_id, movement);

    const key = `${d.warehouse_id}/${d.product_id}`;
    const before = this.stock.get(key) ?? 0;
    let after = before;
    if (d.event === 'arrival') after = before + d.quantity;
    else if (before >= d.quantity) after = before - d.quantity;
    else {
      this.outcomes.set(envelope.id, 'insufficient_stock');
      return;
    }
    this.outcomes.set(envelope.id, 'applied');
    this.stock.set(key, after);
    const statusBefore: StockStatus = stockStatusFor(before, this.lowThreshold);
    if (statusBefore !== stockStatusFor(after, this.lowThreshold)) this.statusChanges++;
  }
}
