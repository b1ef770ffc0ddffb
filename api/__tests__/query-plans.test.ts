/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies and EXPLAIN output are plain JSON */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { startApi, type ApiHarness } from './helpers.js';

/**
 * No list query the API accepts scans a whole large table. A database is filled with enough rows
 * (300k ledger rows, 150k movements, 60k stock rows and status changes, 20k dead letters, with
 * the skews of real data: most events applied, most movements completed, most stock available)
 * that the planner picks a sequential scan wherever no index serves a query. Then every accepted
 * combination of each list's filters, order and cursor is requested through the real API; the SQL
 * it runs is captured from Prisma's query event and EXPLAINed with its parameters, both as planned
 * for those values and as a generic plan (what a prepared statement may switch to), and any Seq
 * Scan of a large table fails the test, naming the request.
 */

const LARGE_ROWS = 10_000;
let database: TestDatabase;
let api: ApiHarness;
let captured: { sql: string; params: unknown[] }[] = [];

const id = (kind: string, n: number | string) => `md5('${kind}' || ${n})::uuid`;

/** Synthetic data with realistic skews, written straight into the tables (the planner reads statistics, not provenance). */
const SEED_SQL = `
INSERT INTO events (message_id, seq, movement_id, warehouse_id, product_id, event, quantity, event_time, produced_at,
                    source, topic, "partition", "offset", outcome, reject_reason, stock_after, received_at)
SELECT ${id('e', 'g')}, g, ${id('m', 'g / 2')}, ${id('w', 'g % 100')}, ${id('p', '(g * 7) % 2000')},
       CASE WHEN g % 2 = 0 THEN 'departure' ELSE 'arrival' END::movement_event, 1 + g % 50,
       timestamptz '2025-01-01' + g * interval '10 seconds' + (g % 13) * interval '1 minute',
       timestamptz '2025-01-01' + g * interval '10 seconds', 'WH-1', 'warehouse.movements', g % 4, g,
       CASE WHEN g % 33 = 0 THEN 'rejected' ELSE 'applied' END::event_outcome,
       CASE WHEN g % 33 = 0 THEN (CASE WHEN g % 2 = 0 THEN 'insufficient_stock' ELSE 'duplicate_movement_event' END)::reject_reason END,
       g % 500, timestamptz '2025-01-01' + (g / 1000) * interval '1 minute'
  FROM generate_series(1, 300000) g;
SELECT setval(pg_get_serial_sequence('events', 'seq'), 300000);
-- The merge records each batch's positions and received time; here one batch per received time.
INSERT INTO ledger_batches (first_seq, last_seq, received_at) SELECT min(seq), max(seq), received_at FROM events GROUP BY received_at;

INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id, updated_at)
SELECT ${id('w', 'w')}, ${id('p', 'p')}, q, CASE WHEN q = 0 THEN 'out_of_stock' WHEN q <= 10 THEN 'low' ELSE 'available' END::stock_status,
       ${id('e', 'w * 1000 + p')}, timestamptz '2025-01-01' + (w * 600 + p) * interval '1 second'
  FROM generate_series(0, 99) w, generate_series(0, 599) p, LATERAL (SELECT CASE WHEN (w + p) % 33 = 0 THEN 0 WHEN (w + p) % 19 = 0 THEN 1 + p % 10 ELSE 11 + (w * p) % 900 END AS q) q;

INSERT INTO movements (movement_id, product_id, source_warehouse_id, departure_message_id, departed_at, quantity_sent,
                       destination_warehouse_id, arrival_message_id, arrived_at, quantity_received,
                       departure_product_id, arrival_product_id)
SELECT ${id('m', 'g')}, ${id('p', 'g % 2000')},
       CASE WHEN g % 50 <> 0 THEN ${id('w', 'g % 100')} END, CASE WHEN g % 50 <> 0 THEN ${id('d', 'g')} END,
       CASE WHEN g % 50 <> 0 THEN timestamptz '2025-01-01' + g * interval '20 seconds' END, CASE WHEN g % 50 <> 0 THEN 10 END,
       CASE WHEN g % 10 <> 5 THEN ${id('w', '(g + 1) % 100')} END, CASE WHEN g % 10 <> 5 THEN ${id('a', 'g')} END,
       CASE WHEN g % 10 <> 5 THEN timestamptz '2025-01-01' + g * interval '20 seconds' + interval '3 hours' END, CASE WHEN g % 10 <> 5 THEN 9 END,
       CASE WHEN g % 50 <> 0 THEN ${id('p', 'g % 2000')} END, CASE WHEN g % 10 <> 5 THEN ${id('p', 'g % 2000')} END
  FROM generate_series(1, 150000) g;

INSERT INTO status_changes (id, warehouse_id, product_id, previous_status, status, quantity, message_id, changed_at)
SELECT g, ${id('w', 'g % 100')}, ${id('p', '(g * 3) % 600')},
       (ARRAY['available', 'low', 'out_of_stock'])[1 + g % 3]::stock_status, (ARRAY['low', 'out_of_stock', 'available'])[1 + g % 3]::stock_status,
       g % 20, ${id('e', 'g')}, timestamptz '2025-01-01' + (g / 100) * interval '1 minute'
  FROM generate_series(1, 60000) g;
SELECT setval(pg_get_serial_sequence('status_changes', 'id'), 60000);

INSERT INTO dead_letters (id, topic, "partition", "offset", message_key, payload, payload_bytes, reason, detail)
SELECT g, 'warehouse.movements', g % 4, g, NULL, '\\x00', 1, (ARRAY['malformed_json', 'invalid_field', 'invalid_timestamp'])[1 + g % 3], 'seeded'
  FROM generate_series(1, 20000) g;
SELECT setval(pg_get_serial_sequence('dead_letters', 'id'), 20000);


ANALYZE;
`;

beforeAll(async () => {
  database = await createTestDatabase('api_plans');
  await database.pool.query(SEED_SQL);
  api = await startApi({ database, onQuery: (sql, params) => captured.push({ sql, params }) });
}, 180_000);

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

let tableRows: Map<string, number> | undefined;
/** Tables of at least LARGE_ROWS rows, with their row counts (statistics). */
async function largeTables(): Promise<Map<string, number>> {
  tableRows ??= new Map(
    (await database.pool.query<{ relname: string; rows: number }>("SELECT relname, reltuples::float8 AS rows FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND reltuples >= $1", [LARGE_ROWS])).rows.map((r) => [r.relname, r.rows]),
  );
  return tableRows;
}

/** What the plan does to each large table: Seq Scans, and rows read (returned or filtered away, every loop). */
function tableReads(node: PlanNode, large: Map<string, number>, reads = new Map<string, { seqScan: boolean; rows: number }>()) {
  const table = node['Relation Name'];
  if (table && large.has(table)) {
    const read = reads.get(table) ?? { seqScan: false, rows: 0 };
    read.seqScan ||= node['Node Type'] === 'Seq Scan';
    read.rows += ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1);
    reads.set(table, read);
  }
  for (const child of node.Plans ?? []) tableReads(child, large, reads);
  return reads;
}

/**
 * A page may read at most this share of a large table. An index walked from its start with a
 * selective filter never shows as a Seq Scan but reads as much; this catches it.
 */
const MAX_SHARE_READ = 0.1;

/**
 * Requests `path`, expects `status`, and returns what is wrong with the plans of the SQL it ran:
 * a Seq Scan of a large table, or more than MAX_SHARE_READ of one read for a page.
 */
async function scansOf(path: string, status = 200): Promise<{ problems: string[]; statements: number }> {
  captured = [];
  const response = await api.get(path);
  expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBe(status);
  const large = await largeTables();
  const problems: string[] = [];
  const statements = captured;
  const client = await database.pool.connect();
  try {
    for (const { sql, params } of statements) {
      for (const mode of ['auto', 'force_generic_plan'] as const) {
        await client.query(`SET plan_cache_mode = ${mode}`);
        const explained = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
        for (const [table, read] of tableReads(explained.rows[0]!['QUERY PLAN'][0]!.Plan, large)) {
          const total = large.get(table)!;
          if (!read.seqScan && read.rows <= total * MAX_SHARE_READ) continue;
          const what = read.seqScan ? `Seq Scan on ${table}` : `reads ${read.rows} of ${Math.round(total)} rows of ${table}`;
          problems.push(`${path} (${mode === 'auto' ? 'plan for these values' : 'generic plan'}): ${what}\n    ${sql.slice(0, 400)}`);
        }
      }
    }
  } finally {
    await client.query('RESET plan_cache_mode');
    client.release();
  }
  return { problems, statements: statements.length };
}

/** Every subset of `options` (each an optional query parameter). */
function subsets<T>(options: readonly T[]): T[][] {
  return options.reduce<T[][]>((all, option) => all.concat(all.map((set) => [...set, option])), [[]]);
}

/** Checks `path` and its second page (with the first page's cursor); collects problems. */
async function checkList(path: string, problems: string[]): Promise<number> {
  const separator = path.includes('?') ? '&' : '?';
  const first = await scansOf(`${path}${separator}limit=5`);
  problems.push(...first.problems);
  const cursor = (await api.get(`${path}${separator}limit=5`)).body.nextCursor as string | null;
  if (!cursor) return first.statements;
  const second = await scansOf(`${path}${separator}limit=5&cursor=${cursor}`);
  problems.push(...second.problems);
  return first.statements + second.statements;
}

async function sample(sql: string): Promise<string> {
  const row = (await database.pool.query<{ v: string }>(sql)).rows[0];
  if (!row) throw new Error(`no sample for ${sql}`);
  return row.v;
}

describe('query plans over a large database', () => {
  it('the seeded tables are large enough to tempt the planner', async () => {
    const large = await largeTables();
    for (const table of ['events', 'stock', 'movements', 'status_changes', 'dead_letters']) expect([...large.keys()], table).toContain(table);
  });

  it('GET /api/events: every filter combination, time range, order and cursor', { timeout: 600_000 }, async () => {
    const warehouse = await sample("SELECT md5('w' || 7)::uuid::text AS v");
    const product = await sample("SELECT md5('p' || 49)::uuid::text AS v");
    const movement = await sample("SELECT md5('m' || 5000)::uuid::text AS v");
    const filters = [`movementId=${movement}`, `warehouseId=${warehouse}`, `productId=${product}`, 'event=departure', 'outcome=applied', 'rejectReason=insufficient_stock'];
    const times = ['', 'since=2025-01-20T00:00:00Z', 'since=2025-01-10T00:00:00Z&until=2025-01-11T00:00:00Z', 'until=2025-01-02T00:00:00Z',
      'receivedSince=2025-01-01T03:00:00Z', 'receivedSince=2025-01-01T01:00:00Z&receivedUntil=2025-01-01T01:30:00Z'];
    const problems: string[] = [];
    let statements = 0;
    for (const set of subsets(filters)) {
      for (const time of times) {
        for (const order of ['asc', 'desc']) {
          const query = [...set, time, `order=${order}`].filter(Boolean).join('&');
          statements += await checkList(`/api/events?${query}`, problems);
        }
      }
    }
    expect(statements).toBeGreaterThan(500);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('GET .../history and the stock as of an instant', async () => {
    const warehouse = await sample("SELECT md5('w' || 7)::uuid::text AS v");
    const product = await sample("SELECT product_id::text AS v FROM events WHERE warehouse_id = md5('w' || 7)::uuid LIMIT 1");
    const problems: string[] = [];
    for (const time of ['', 'since=2025-01-20T00:00:00Z', 'since=2025-01-10T00:00:00Z&until=2025-01-11T00:00:00Z', 'until=2025-01-02T00:00:00Z']) {
      for (const order of ['asc', 'desc']) await checkList(`/api/warehouses/${warehouse}/products/${product}/history?${[time, `order=${order}`].filter(Boolean).join('&')}`, problems);
    }
    for (const asOf of ['2025-01-01T02:00:00Z', '2030-01-01T00:00:00Z', '2000-01-01T00:00:00Z']) problems.push(...(await scansOf(`/api/warehouses/${warehouse}/products/${product}?asOf=${asOf}`)).problems);
    problems.push(...(await scansOf(`/api/warehouses/${warehouse}/products/${product}`)).problems);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('GET /api/movements: warehouse, product, state, time range and cursor', { timeout: 600_000 }, async () => {
    const warehouse = await sample("SELECT md5('w' || 7)::uuid::text AS v");
    const product = await sample("SELECT md5('p' || 49)::uuid::text AS v");
    const problems: string[] = [];
    for (const set of subsets([`warehouseId=${warehouse}`, `productId=${product}`])) {
      for (const state of ['', 'state=in_transit', 'state=arrived', 'state=completed']) {
        for (const time of ['', 'since=2025-01-20T00:00:00Z', 'since=2025-01-10T00:00:00Z&until=2025-01-11T00:00:00Z', 'until=2025-01-02T00:00:00Z']) {
          await checkList(`/api/movements?${[...set, state, time].filter(Boolean).join('&')}`, problems);
        }
      }
    }
    problems.push(...(await scansOf(`/api/movements/${await sample("SELECT md5('m' || 77)::uuid::text AS v")}`)).problems);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('stock lists: status and quantity ranges where accepted; refused where no index serves them', { timeout: 600_000 }, async () => {
    const warehouse = await sample("SELECT md5('w' || 7)::uuid::text AS v");
    const product = await sample("SELECT md5('p' || 49)::uuid::text AS v");
    const problems: string[] = [];
    for (const status of ['', 'status=available', 'status=low', 'status=out_of_stock']) {
      for (const range of subsets(['minQuantity=5', 'maxQuantity=8'])) {
        const query = [status, ...range].filter(Boolean).join('&');
        await checkList(`/api/warehouses/${warehouse}/products?${query}`, problems);
        await checkList(`/api/products/${product}/warehouses?${query}`, problems);
        const servedAll = range.length === 0 || status === 'status=low' || status === 'status=out_of_stock';
        if (servedAll) await checkList(`/api/stock?${query}`, problems);
        else await scansOf(`/api/stock?${query}`, 400);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('GET /api/status-changes: warehouse, product, status, time range, order and cursor', { timeout: 600_000 }, async () => {
    const warehouse = await sample("SELECT md5('w' || 7)::uuid::text AS v");
    const product = await sample("SELECT md5('p' || 21)::uuid::text AS v");
    const problems: string[] = [];
    for (const set of subsets([`warehouseId=${warehouse}`, `productId=${product}`, 'status=low'])) {
      for (const time of ['', 'since=2025-01-01T05:00:00Z', 'since=2025-01-01T02:00:00Z&until=2025-01-01T02:30:00Z', 'until=2025-01-01T00:10:00Z']) {
        for (const order of ['asc', 'desc']) await checkList(`/api/status-changes?${[...set, time, `order=${order}`].filter(Boolean).join('&')}`, problems);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('GET /api/dead-letters: reason, topic and cursor', async () => {
    const problems: string[] = [];
    for (const set of subsets(['reason=malformed_json', 'topic=warehouse.movements'])) await checkList(`/api/dead-letters?${set.join('&')}`, problems);
    await checkList('/api/dead-letters?topic=another.topic', problems);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
