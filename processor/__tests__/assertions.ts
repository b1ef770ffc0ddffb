import { expect } from 'vitest';
import type pg from 'pg';
import type { KafkaMessage } from '../../lib/kafka/client.js';
import { consumeFromStart } from '../../lib/testing/kafka.js';
import { stockStatusFor } from '../../lib/terms.js';
import { NOTIFICATION_TYPES } from '../notifier.js';
import { movementProduct, Oracle, stockKey, type LedgerTruth } from './oracle.js';
import type { ProducedMessage } from './stream.js';

/**
 * The database against the oracle, for a stream produced with known offsets.
 *
 * Which of two copies is applied first is decided by how the partitions interleave when copies
 * sit in different partitions (a producer duplicate sent elsewhere, a twin from another
 * warehouse). So the truth is not one fixed state: the check takes the order the processor applied
 * events in (the ledger's `seq`, reserved per batch in merge order, records in read order),
 * verifies that this order is one the processor was allowed to take, and replays the oracle in it:
 *
 * 1. every ledger row sits at the position (topic, partition, offset) of a produced copy of its id;
 * 2. within each partition, ledger rows were applied in offset order;
 * 3. every produced message's id is in the ledger (or its position is an expected dead letter);
 * 4. every copy that is not the one in the ledger was read after it: the ledger's copy was applied
 *    before the next ledger row of the other copy's partition (so the first occurrence won);
 * 5. the oracle replayed in that order gives exactly the database's ledger (outcome, reason, stock
 *    after, content), stock (quantity, status, last message), movements (sides, products, times,
 *    message ids), the status log in id order, the counter, and the running totals.
 */

export interface DatabaseCheck {
  oracle: Oracle;
  /** The ledger in order of application, with the batch (commit) each row belongs to. */
  ledger: LedgerRow[];
}

export interface LedgerRow {
  messageId: string;
  seq: number;
  topic: string;
  partition: number;
  offset: number;
  /** The transaction's start time (`received_at`): one value per committed batch. */
  batch: string;
}

export interface DatabaseCheckOptions {
  lowThreshold?: number;
  /** Produced messages the processor must have dead-lettered instead (by position). */
  deadLetters?: readonly ProducedMessage[];
}

const positionKey = (topic: string, partition: number, offset: number): string => `${topic}/${partition}/${offset}`;

/** JSON with object keys sorted, so equal content compares equal whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** Asserts the database ends in exactly what the oracle says for `produced`; see the module comment. */
export async function expectDatabaseMatchesOracle(pool: pg.Pool, produced: readonly ProducedMessage[], options: DatabaseCheckOptions = {}): Promise<DatabaseCheck> {
  const lowThreshold = options.lowThreshold ?? 10;
  const { rows } = await pool.query<{
    message_id: string; seq: string; movement_id: string; warehouse_id: string; product_id: string; event: string; quantity: number;
    event_time: Date; produced_at: Date; source: string; topic: string; partition: number; offset: string; outcome: string;
    reject_reason: string | null; stock_after: string; batch: string;
  }>(`SELECT message_id, seq, movement_id, warehouse_id, product_id, event, quantity, event_time, produced_at, source, topic, "partition",
             "offset", outcome, reject_reason, stock_after, received_at::text AS batch
        FROM events ORDER BY seq`);
  const ledger: LedgerRow[] = rows.map((row) => ({ messageId: row.message_id, seq: Number(row.seq), topic: row.topic, partition: row.partition, offset: Number(row.offset), batch: row.batch }));

  const byPosition = new Map(produced.map((message) => [positionKey(message.topic, message.partition, message.offset), message]));
  const deadPositions = new Set((options.deadLetters ?? []).map((m) => positionKey(m.topic, m.partition, m.offset)));
  const dead = await pool.query<{ topic: string; partition: number; offset: string }>('SELECT topic, "partition", "offset" FROM dead_letters');
  expect(dead.rows.map((row) => positionKey(row.topic, row.partition, Number(row.offset))).sort(), 'dead letters').toEqual([...deadPositions].sort());

  // 1. Every ledger row is a produced copy of its id, at that copy's position.
  const winners = new Map<string, { message: ProducedMessage; seq: number }>();
  const misplaced: string[] = [];
  for (const row of ledger) {
    const message = byPosition.get(positionKey(row.topic, row.partition, row.offset));
    if (!message || message.envelope.id.toLowerCase() !== row.messageId) misplaced.push(`${row.messageId} at ${row.topic}/${row.partition}/${row.offset}`);
    else winners.set(row.messageId, { message, seq: row.seq });
  }
  expect(misplaced.slice(0, 5), `${misplaced.length} ledger rows at no produced copy of their id`).toEqual([]);

  // 2. Offset order within each partition.
  const rowsByPartition = new Map<string, LedgerRow[]>();
  for (const row of ledger) {
    const key = `${row.topic}/${row.partition}`;
    rowsByPartition.set(key, [...(rowsByPartition.get(key) ?? []), row]);
  }
  const disorder: string[] = [];
  for (const [partition, inSeq] of rowsByPartition) {
    for (let i = 1; i < inSeq.length; i++) if (inSeq[i]!.offset <= inSeq[i - 1]!.offset) disorder.push(`${partition}: offset ${inSeq[i]!.offset} applied after ${inSeq[i - 1]!.offset}`);
  }
  expect(disorder.slice(0, 5), `${disorder.length} events applied out of offset order`).toEqual([]);

  // 3 and 4. Every message accounted for; every other copy read after the one applied.
  const nextSeqAfter = (message: ProducedMessage): number => {
    const later = (rowsByPartition.get(`${message.topic}/${message.partition}`) ?? []).find((row) => row.offset > message.offset);
    return later?.seq ?? Number.POSITIVE_INFINITY;
  };
  const lost: string[] = [];
  const wrongWinner: string[] = [];
  for (const message of produced) {
    const where = positionKey(message.topic, message.partition, message.offset);
    if (deadPositions.has(where)) continue;
    const winner = winners.get(message.envelope.id.toLowerCase());
    if (!winner) lost.push(`${message.envelope.id} at ${where}`);
    else if (winner.message !== message && winner.seq >= nextSeqAfter(message)) {
      wrongWinner.push(`${message.envelope.id}: the copy at ${where} was read before the applied one at ${winner.message.partition}/${winner.message.offset}`);
    }
  }
  expect(lost.slice(0, 5), `${lost.length} produced messages missing from the ledger`).toEqual([]);
  expect(wrongWinner.slice(0, 5), `${wrongWinner.length} ids whose first occurrence did not win`).toEqual([]);

  // 5. Replay in the order of application and compare everything.
  const oracle = new Oracle(lowThreshold);
  const truths = new Map<string, LedgerTruth>();
  for (const row of ledger) truths.set(row.messageId, oracle.apply(winners.get(row.messageId)!.message.envelope)!);
  const ledgerDiff: string[] = [];
  for (const row of rows) {
    const truth = truths.get(row.message_id)!;
    const d = truth.envelope.data;
    const actual = [row.outcome === 'applied' ? 'applied' : row.reject_reason, Number(row.stock_after), row.movement_id, row.warehouse_id, row.product_id, row.event, row.quantity, row.event_time.getTime(), row.produced_at.getTime(), row.source];
    const expected = [truth.outcome, truth.stockAfter, d.movement_id, d.warehouse_id, d.product_id, d.event, d.quantity, Date.parse(d.timestamp), truth.envelope.time, truth.envelope.source];
    if (JSON.stringify(actual) !== JSON.stringify(expected)) ledgerDiff.push(`${row.message_id}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
  }
  expect(ledgerDiff.slice(0, 5), `${ledgerDiff.length} ledger rows differ from the oracle (outcome, stock after, content)`).toEqual([]);

  const stock = await pool.query<{ warehouse_id: string; product_id: string; quantity: string; status: string; last_message_id: string }>(
    'SELECT warehouse_id, product_id, quantity, status, last_message_id FROM stock',
  );
  expect(Object.fromEntries(stock.rows.map((r) => [stockKey(r.warehouse_id, r.product_id), [Number(r.quantity), r.status, r.last_message_id]])), 'stock').toEqual(
    Object.fromEntries([...oracle.stock].map(([key, s]) => [key, [s.quantity, s.status, s.lastMessageId]])),
  );

  const movements = await pool.query<Record<string, unknown> & { movement_id: string }>('SELECT * FROM movements');
  const time = (value: unknown): number | null => (value instanceof Date ? value.getTime() : null);
  // The columns of design.md 3's product mismatch.
  const mismatchColumns = ['departure_product_id', 'arrival_product_id', 'product_mismatch'];
  const actualMovements = Object.fromEntries(
    movements.rows.map((m) => [
      m.movement_id,
      [m.product_id, m.source_warehouse_id, m.departure_message_id, time(m.departed_at), m.quantity_sent, m.destination_warehouse_id, m.arrival_message_id, time(m.arrived_at), m.quantity_received, ...mismatchColumns.map((c) => m[c])],
    ]),
  );
  const expectedMovements = Object.fromEntries(
    [...oracle.movements].map(([id, m]) => {
      const extra: Record<string, unknown> = {
        departure_product_id: m.departure?.productId ?? null,
        arrival_product_id: m.arrival?.productId ?? null,
        product_mismatch: m.departure !== undefined && m.arrival !== undefined && m.departure.productId !== m.arrival.productId,
      };
      return [id, [movementProduct(m), m.departure?.warehouseId ?? null, m.departure?.messageId ?? null, m.departure?.timeMs ?? null, m.departure?.quantity ?? null,
        m.arrival?.warehouseId ?? null, m.arrival?.messageId ?? null, m.arrival?.timeMs ?? null, m.arrival?.quantity ?? null, ...mismatchColumns.map((c) => extra[c])]];
    }),
  );
  expect(actualMovements, 'movements: product, departure (warehouse, message, time, quantity), arrival (the same)').toEqual(expectedMovements);

  const changes = await pool.query<{ warehouse_id: string; product_id: string; previous_status: string; status: string; quantity: string; message_id: string }>(
    'SELECT warehouse_id, product_id, previous_status, status, quantity, message_id FROM status_changes ORDER BY id',
  );
  expect(
    changes.rows.map((c) => ({ warehouseId: c.warehouse_id, productId: c.product_id, previousStatus: c.previous_status, status: c.status, quantity: Number(c.quantity), messageId: c.message_id })),
    'status changes, in id order',
  ).toEqual(oracle.statusChanges);
  const counter = await pool.query<{ total: string }>('SELECT total FROM status_change_counter');
  expect(Number(counter.rows[0]?.total), 'status change counter').toBe(oracle.statusChanges.length);

  // The running totals the stats endpoint reads agree with the tables they summarise.
  const totals = await pool.query<{ name: string; value: string }>("SELECT name, value FROM ledger_totals WHERE name NOT LIKE 'events:%\\_ms'");
  const counted = await pool.query<{ name: string; value: string }>(`
    SELECT 'events:' || coalesce(reject_reason::text, 'applied') AS name, count(*)::text AS value FROM events GROUP BY 1
    UNION ALL SELECT 'stock_rows', count(*)::text FROM stock HAVING count(*) > 0
    UNION ALL SELECT 'dead_letters:' || reason, count(*)::text FROM dead_letters GROUP BY reason
    UNION ALL SELECT 'stock_rows:' || status, count(*)::text FROM stock WHERE status <> 'out_of_stock' GROUP BY status
    UNION ALL SELECT 'movements:in_transit', count(*)::text FROM movements WHERE arrival_message_id IS NULL`);
  const asMap = (list: { name: string; value: string }[]) => Object.fromEntries(list.filter((r) => r.value !== '0').map((r) => [r.name, Number(r.value)]));
  expect(asMap(totals.rows), 'ledger_totals').toEqual(asMap(counted.rows));
  const perDay = await pool.query<{ name: string; value: string }>('SELECT day::text AS name, total::text AS value FROM status_changes_per_day');
  const changesPerDay = await pool.query<{ name: string; value: string }>(
    "SELECT (changed_at AT TIME ZONE 'UTC')::date::text AS name, count(*)::text AS value FROM status_changes GROUP BY 1",
  );
  expect(asMap(perDay.rows), 'status_changes_per_day').toEqual(asMap(changesPerDay.rows));

  return { oracle, ledger };
}

/** What the stream must have exercised for a test to claim it: counts of outcomes in the ledger. */
export function outcomeCounts(check: DatabaseCheck): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const truth of check.oracle.ledger.values()) counts[truth.outcome] = (counts[truth.outcome] ?? 0) + 1;
  return counts;
}

interface Notification {
  type: string;
  source: string;
  subject: string;
  data: Record<string, unknown>;
}

/**
 * Asserts the notification topic holds exactly what the committed batches announce: per batch,
 * one `stock.changed` per (warehouse, product) the batch applied an event to, with its stock and
 * status after the batch, and one `stock.status_changed` per logged change with the logged row's
 * content; all keyed by warehouse, and per (warehouse, product) in commit order. Batches are the
 * ledger's transactions (`received_at`), replayed through the oracle.
 *
 * Commit order holds for one processor whose batches announce fewer than the notifier's 1000
 * messages between yields. It does not hold across a handover: the old owner publishes its last
 * batch's notifications without waiting for them, the new owner's can reach the topic first (seen
 * in the rebalance test: a key's 63 after its 90), so tests with several instances pass
 * `inCommitOrder: false`.
 */
export async function expectNotificationsMatch(
  pool: pg.Pool,
  notifyTopic: string,
  check: DatabaseCheck,
  timeoutMs: number,
  options: { inCommitOrder?: boolean } = {},
): Promise<void> {
  const replay = new Oracle(check.oracle.lowThreshold);
  const expectedStock: string[] = [];
  let batchKeys = new Map<string, string>();
  let batch: string | undefined;
  const flushBatch = (): void => {
    expectedStock.push(...batchKeys.values());
    batchKeys = new Map();
  };
  for (const row of check.ledger) {
    if (row.batch !== batch) flushBatch();
    batch = row.batch;
    const truth = replay.apply(check.oracle.ledger.get(row.messageId)!.envelope)!;
    if (truth.outcome !== 'applied') continue;
    const d = truth.envelope.data;
    const key = stockKey(d.warehouse_id, d.product_id);
    batchKeys.set(key, JSON.stringify([d.warehouse_id, d.warehouse_id, d.product_id, truth.stockAfter, stockStatusFor(truth.stockAfter, replay.lowThreshold)]));
  }
  flushBatch();

  const logged = await pool.query<{ id: string; warehouse_id: string; product_id: string; previous_status: string; status: string; quantity: string; message_id: string; changed_at: Date }>(
    'SELECT id, warehouse_id, product_id, previous_status, status, quantity, message_id, changed_at FROM status_changes ORDER BY id',
  );
  const expectedStatus = logged.rows.map((c) =>
    canonical([c.warehouse_id, { status_change_id: Number(c.id), warehouse_id: c.warehouse_id, product_id: c.product_id, previous_status: c.previous_status, status: c.status, quantity: Number(c.quantity), message_id: c.message_id, changed_at: c.changed_at.toISOString() }]),
  );

  const total = expectedStock.length + expectedStatus.length;
  const read = await consumeFromStart(notifyTopic, total, timeoutMs);
  const parsed = read.map((message: KafkaMessage) => ({ key: message.key?.toString(), partition: message.partition, body: JSON.parse(message.value!.toString()) as Notification }));
  for (const { key, body } of parsed) {
    expect(body).toMatchObject({ source: 'warehouse-stock-processor', subject: key });
  }
  const stockChanged = parsed.filter((n) => n.body.type === NOTIFICATION_TYPES.stockChanged);
  const statusChanged = parsed.filter((n) => n.body.type === NOTIFICATION_TYPES.statusChanged);
  expect(stockChanged.length + statusChanged.length, 'notifications of unknown types').toBe(parsed.length);

  const actualStock = stockChanged.map((n) => JSON.stringify([n.key, n.body.data.warehouse_id, n.body.data.product_id, n.body.data.quantity, n.body.data.status]));
  expect([...actualStock].sort(), 'stock.changed: one per (warehouse, product) per batch, with its stock after the batch').toEqual([...expectedStock].sort());
  // Keyed by warehouse, so each (warehouse, product)'s announcements stay in commit order.
  const sequences = (list: string[]): Record<string, number[]> => {
    const byKey: Record<string, number[]> = {};
    for (const entry of list) {
      const [, warehouse, product, quantity] = JSON.parse(entry) as [string, string, string, number];
      (byKey[stockKey(warehouse, product)] ??= []).push(quantity);
    }
    return byKey;
  };
  if (options.inCommitOrder ?? true) expect(sequences(actualStock), 'stock.changed in commit order per (warehouse, product)').toEqual(sequences(expectedStock));

  const actualStatus = statusChanged.map((n) => canonical([n.key, n.body.data]));
  expect([...actualStatus].sort(), 'stock.status_changed: one per logged change, its content').toEqual([...expectedStatus].sort());
}
