/**
 * The bodies of the public API routes the console reads, as the console uses them. Written here
 * (the browser bundle cannot import the API's zod schemas without bundling zod), and checked at
 * compile time against those schemas by `../api-types.check.ts`: each type below must accept what
 * the API's schema produces, so a change of the API that breaks the console fails `make lint`.
 * Fields the console does not read are left out; fields other branches may add are optional.
 */

export type StockStatus = 'available' | 'low' | 'out_of_stock';
export type Outcome = 'applied' | 'rejected';
export type RejectReason = 'insufficient_stock' | 'duplicate_movement_event';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Stats {
  events: { total: number; applied: number; rejected: number; rejectedByReason: Record<RejectReason, number> };
  deadLetters: { total: number; byReason: Record<string, number> };
  stockRows: number;
  stockRowsByStatus: Record<StockStatus, number>;
  movementsInTransit: number;
  warehouses: number;
  products: number;
  statusChanges: number;
  statusChangesToday: number;
  lastEventTime: string | null;
  lastReceivedAt: string | null;
}

export interface StockRow {
  warehouseId: string;
  productId: string;
  quantity: number;
  status: StockStatus;
  updatedAt: string | null;
  lastMessageId: string | null;
}

export interface ProductWarehouses extends Page<StockRow> {
  productId: string;
  totalQuantity: number;
  warehouseCount: number;
}

export interface SideOutcome {
  outcome: Outcome;
  rejectReason: RejectReason | null;
}

export interface Movement {
  movementId: string;
  productId: string;
  /** Each side's own product and whether they differ (present once the API reports them). */
  departureProductId?: string | null;
  arrivalProductId?: string | null;
  productMismatch?: boolean;
  state: 'in_transit' | 'arrived' | 'completed';
  departure: { messageId: string; warehouseId: string; departedAt: string; quantitySent: number; stock: SideOutcome | null } | null;
  arrival: { messageId: string; warehouseId: string; arrivedAt: string; quantityReceived: number; stock: SideOutcome | null } | null;
  quantitySent: number | null;
  quantityReceived: number | null;
  quantityDifference: number | null;
  transitSeconds: number | null;
  transitDuration: string | null;
}

/** One ledger row of a (warehouse, product), as GET .../history lists it: the stock right after it included. */
export interface HistoryItem {
  seq: number;
  messageId: string;
  movementId: string;
  event: 'arrival' | 'departure';
  quantity: number;
  eventTime: string;
  receivedAt: string;
  outcome: Outcome;
  rejectReason: RejectReason | null;
  stockAfter: number;
}

/** One ledger row, as GET /api/events lists it: a history row with the pair it belongs to. */
export interface LedgerEvent extends HistoryItem {
  warehouseId: string;
  productId: string;
}

export interface DeadLetter {
  id: number;
  topic: string;
  partition: number;
  offset: number;
  messageKey: string | null;
  payload: string;
  payloadBase64: string;
  payloadBytes: number;
  reason: string;
  detail: string;
  receivedAt: string;
}

export interface StatusChange {
  id: number;
  warehouseId: string;
  productId: string;
  previousStatus: StockStatus;
  status: StockStatus;
  quantity: number;
  messageId: string;
  changedAt: string;
}

/** RFC 9457 problem details, the body of every API error. */
export interface Problem {
  title?: string;
  status?: number;
  detail?: string;
}
