import { namedQuery, type Database } from '../db.js';
import type { Event } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { afterTimeAndId, keysetSql, type Direction } from '../keyset-sql.js';
import type { TimeRange } from '../time-range.js';

/**
 * The ledger pages behind GET /api/events and GET .../history. The access paths (indexes of the
 * init and *_read_path_indexes migrations):
 *
 * | filter                            | index                                | gives the order |
 * | --------------------------------- | ------------------------------------ | --------------- |
 * | none (event, outcome=applied)     | events_seq_key                       | seq             |
 * | warehouseId / productId           | events_warehouse_seq_idx / _product_ | seq             |
 * | rejectReason                      | events_rejected_seq_idx (partial)    | seq             |
 * | outcome=rejected                  | events_rejected_seq_idx (partial)    | no              |
 * | movementId                        | movements_pkey, events_pkey (below)  | no              |
 * | since/until (event time)          | events_event_time_idx                | event time      |
 * | receivedSince/receivedUntil       | ledger_batches, then events_seq_key  | seq (= received)|
 *
 * One path that gives the order is walked until a page is full. Two paths, or one that does not
 * give the order, are fenced (api/keyset-sql.ts): a page then reads at most the smaller of the
 * paths' row sets: one (warehouse, product)'s rows, for instance, cost the smaller of the
 * product's and the warehouse's ledger (an index of its own would slow every merge: see the
 * migration). event and outcome=applied match half or most rows and are only filters.
 * api/__tests__/query-plans.test.ts checks every accepted combination with EXPLAIN ANALYZE.
 */

export type EventOrder = 'seq' | 'eventTime' | 'receivedAt';

export interface EventFilters {
  movementId?: string | undefined;
  warehouseId?: string | undefined;
  productId?: string | undefined;
  event?: Event['event'] | undefined;
  outcome?: Event['outcome'] | undefined;
  rejectReason?: NonNullable<Event['rejectReason']> | undefined;
  eventTime?: TimeRange | undefined;
  receivedAt?: TimeRange | undefined;
}

// Received order is ledger order: received_at is taken under the merge lock and always grows
// (prisma/migrations/20261124000900_ledger_batches), so a received-time list pages on seq.
const ORDER_COLUMN: Record<EventOrder, string | undefined> = { seq: undefined, eventTime: 'event_time', receivedAt: undefined };

const EVENT_COLUMNS = Prisma.sql`message_id AS "messageId", seq, movement_id AS "movementId", warehouse_id AS "warehouseId",
  product_id AS "productId", event, quantity, event_time AS "eventTime", produced_at AS "producedAt", source, topic,
  "partition", "offset", outcome, reject_reason AS "rejectReason", stock_after AS "stockAfter", received_at AS "receivedAt"`;

/** `column` within [since, until); instants go in as text and PostgreSQL keeps any microseconds given. */
export function timeConditions(column: string, bounds: TimeRange | undefined): Prisma.Sql[] {
  const sql: Prisma.Sql[] = [];
  if (bounds?.since) sql.push(Prisma.sql`${Prisma.raw(column)} >= ${bounds.since}::timestamptz`);
  if (bounds?.until) sql.push(Prisma.sql`${Prisma.raw(column)} < ${bounds.until}::timestamptz`);
  return sql;
}

/**
 * The ledger rows of one movement without an index of the ledger by movement id (dropped for the
 * merge's sake: prisma/migrations/20261124000800_merge_write_cost): every fresh event that is not
 * a duplicate side is its movement's departure or arrival, whose message ids the movement row
 * holds; the rejected duplicate sides come from a small partial index.
 */
function movementMessages(movementId: string): Prisma.Sql {
  return Prisma.sql`message_id IN (
    SELECT side.message_id FROM movements m,
           LATERAL (VALUES (m.departure_message_id), (m.arrival_message_id)) AS side(message_id)
     WHERE m.movement_id = ${movementId}::uuid AND side.message_id IS NOT NULL
    UNION ALL
    SELECT d.message_id FROM events d
     WHERE d.movement_id = ${movementId}::uuid AND d.reject_reason = 'duplicate_movement_event')`;
}

/**
 * A received-time range as a range of ledger positions, from the batches stored in it (one
 * ledger_batches row per merge, instead of an index entry per ledger row), plus the exact time
 * filter. The bounds are a min and a max over the range's batches, which hold even for batches
 * stored before received times grew with the positions; the cost is one index entry per batch in
 * the range.
 */
function receivedConditions(bounds: TimeRange | undefined): Prisma.Sql[] {
  const sql = timeConditions('received_at', bounds);
  if (bounds?.since) sql.push(Prisma.sql`seq >= (SELECT min(b.first_seq) FROM ledger_batches b WHERE b.received_at >= ${bounds.since}::timestamptz)`);
  if (bounds?.until) sql.push(Prisma.sql`seq <= (SELECT max(b.last_seq) FROM ledger_batches b WHERE b.received_at < ${bounds.until}::timestamptz)`);
  return sql;
}

function conditions(filters: EventFilters): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (filters.movementId) where.push(Prisma.sql`movement_id = ${filters.movementId}::uuid`, movementMessages(filters.movementId));
  if (filters.warehouseId) where.push(Prisma.sql`warehouse_id = ${filters.warehouseId}::uuid`);
  if (filters.productId) where.push(Prisma.sql`product_id = ${filters.productId}::uuid`);
  if (filters.event) where.push(Prisma.sql`event = ${filters.event}::movement_event`);
  if (filters.outcome) where.push(Prisma.sql`outcome = ${filters.outcome}::event_outcome`);
  if (filters.rejectReason) where.push(Prisma.sql`reject_reason = ${filters.rejectReason}::reject_reason`);
  where.push(...timeConditions('event_time', filters.eventTime), ...receivedConditions(filters.receivedAt));
  return where;
}

/** Whether the request narrows by more than one access path, or by one that does not give the order (table above). */
function needsFence(filters: EventFilters, order: EventOrder): boolean {
  const paths: string[] = [];
  if (filters.movementId) paths.push('movement');
  if (filters.warehouseId) paths.push('warehouse');
  if (filters.productId) paths.push('product');
  if (filters.rejectReason) paths.push('rejectReason');
  else if (filters.outcome === 'rejected') paths.push('rejected');
  if (order === 'eventTime') paths.push('time');
  // A received-time range is a seq range: it narrows whichever seq-ordered path is walked.
  const ordered = order === 'eventTime' ? ['time'] : ['warehouse', 'product', 'rejectReason'];
  return paths.length > 1 || (paths.length === 1 && !ordered.includes(paths[0]!));
}

/** Up to `take` ledger rows matching `filters`, in `order` and `direction`, after the row with seq `after`. */
export async function readEvents(db: Database, filters: EventFilters, order: EventOrder, direction: Direction, after: bigint | undefined, take: number): Promise<Event[]> {
  const time = ORDER_COLUMN[order];
  const cursor = after === undefined ? undefined : time ? afterTimeAndId('events', time, 'seq', after) : [Prisma.sql`${after}::bigint`];
  const sql = keysetSql({
    columns: EVENT_COLUMNS,
    table: 'events',
    where: conditions(filters),
    orderBy: time ? [time, 'seq'] : ['seq'],
    direction,
    after: cursor,
    fence: needsFence(filters, order),
    take,
  });
  return db.$queryRaw<Event[]>(namedQuery('Event', 'listEvents', sql));
}
