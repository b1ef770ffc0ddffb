import type pg from 'pg';
import type { Truth } from './truth.js';

/** The database after a campaign, against the truth of what was produced. */
export interface Comparison {
  ledgerRows: { expected: number; actual: number };
  /** Ledger rows by outcome (`applied` or the reject reason). */
  outcomes: Record<string, { expected: number; actual: number }>;
  /** Events the truth has and the ledger does not. */
  lost: number;
  /** Ledger rows the truth does not have. */
  unexpected: number;
  /** Events in both, with another outcome. */
  wrongOutcome: number;
  stock: { keys: number; mismatched: number; aboveTruth: number };
  movements: { expected: number; mismatched: number };
  statusChanges: { expected: number; logged: number; counted: number };
  deadLetters: { expected: number; actual: number };
  skippedOffsets: number;
  /** Everything equal, nothing lost, nothing applied twice, nothing skipped. */
  equal: boolean;
}

const count = (rows: Iterable<string>) => {
  const counts: Record<string, number> = {};
  for (const value of rows) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
};

export async function compareWithTruth(client: pg.Client, truth: Truth, invalidSent: number): Promise<Comparison> {
  const ledger = await client.query<{ message_id: string; outcome: string }>('SELECT message_id, coalesce(reject_reason::text, outcome::text) AS outcome FROM events');
  const actual = new Map(ledger.rows.map((row) => [row.message_id, row.outcome]));
  let lost = 0;
  let wrongOutcome = 0;
  for (const [id, outcome] of truth.outcomes) {
    const found = actual.get(id);
    if (found === undefined) lost++;
    else if (found !== outcome) wrongOutcome++;
  }
  const unexpected = [...actual.keys()].filter((id) => !truth.outcomes.has(id)).length;
  const expectedOutcomes = count(truth.outcomes.values());
  const actualOutcomes = count(actual.values());
  const outcomes = Object.fromEntries(
    [...new Set([...Object.keys(expectedOutcomes), ...Object.keys(actualOutcomes)])].sort().map((name) => [name, { expected: expectedOutcomes[name] ?? 0, actual: actualOutcomes[name] ?? 0 }]),
  );

  const stockRows = await client.query<{ key: string; quantity: string }>("SELECT warehouse_id || '/' || product_id AS key, quantity FROM stock");
  const stock = new Map(stockRows.rows.map((row) => [row.key, Number(row.quantity)]));
  let stockMismatched = 0;
  let aboveTruth = 0;
  for (const key of new Set([...stock.keys(), ...truth.stock.keys()])) {
    const have = stock.get(key) ?? 0;
    const want = truth.stock.get(key) ?? 0;
    if (have !== want) stockMismatched++;
    if (have > want) aboveTruth++;
  }

  const movementRows = await client.query<{ movement_id: string; source: string | null; sent: number | null; destination: string | null; received: number | null }>(
    'SELECT movement_id, source_warehouse_id AS source, quantity_sent AS sent, destination_warehouse_id AS destination, quantity_received AS received FROM movements',
  );
  const movements = new Map(movementRows.rows.map((row) => [row.movement_id, row]));
  let movementsMismatched = Math.abs(movements.size - truth.movements.size);
  for (const [id, want] of truth.movements) {
    const have = movements.get(id);
    const same =
      have !== undefined &&
      have.source === (want.departure?.warehouse ?? null) && have.sent === (want.departure?.quantity ?? null) &&
      have.destination === (want.arrival?.warehouse ?? null) && have.received === (want.arrival?.quantity ?? null);
    if (!same) movementsMismatched++;
  }

  const status = await client.query<{ logged: string; counted: string }>('SELECT (SELECT count(*) FROM status_changes) AS logged, (SELECT total FROM status_change_counter) AS counted');
  const dead = await client.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters');
  const skipped = await client.query<{ n: string | null }>('SELECT sum(to_offset - from_offset) AS n FROM skipped_offsets');

  const comparison: Comparison = {
    ledgerRows: { expected: truth.outcomes.size, actual: actual.size },
    outcomes,
    lost,
    unexpected,
    wrongOutcome,
    stock: { keys: truth.stock.size, mismatched: stockMismatched, aboveTruth },
    movements: { expected: truth.movements.size, mismatched: movementsMismatched },
    statusChanges: { expected: truth.statusChanges, logged: Number(status.rows[0]!.logged), counted: Number(status.rows[0]!.counted) },
    deadLetters: { expected: invalidSent, actual: Number(dead.rows[0]!.n) },
    skippedOffsets: Number(skipped.rows[0]!.n ?? 0),
    equal: false,
  };
  comparison.equal =
    lost === 0 && unexpected === 0 && wrongOutcome === 0 && stockMismatched === 0 && movementsMismatched === 0 &&
    comparison.statusChanges.logged === truth.statusChanges && comparison.statusChanges.counted === truth.statusChanges &&
    comparison.deadLetters.actual === invalidSent && comparison.skippedOffsets === 0;
  return comparison;
}
