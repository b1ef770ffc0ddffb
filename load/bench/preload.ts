/**
 * The preload of `make profile-merge --preload N`: fills the ledger (`events`), `stock`,
 * `movements` and the status log with N ledger rows of consistent history, in SQL
 * (generate_series, straight into the tables, not through the processor), so that a merge can be
 * measured on top of a large database (issue 16).
 *
 * The history, over the stream's own stock keys (W warehouses x P products, K = W x P keys, key
 * k = p x W + w):
 *   - openings: one supply arrival per key (a movement with only its arrival side), quantity S(k)
 *     between 51 and 500, the size of the stream's supplies;
 *   - then rounds of movements: in round r every key sends one departure of q(r, p) units (1-40)
 *     to the warehouse `shift(r)` places further on, and receives one; all departures of a round
 *     come first (in key order), then their arrivals, so a key's stock dips to S(k) - q and comes
 *     back to S(k). The last round may be partial (the first c movements), and then a key ends at
 *     S(k) - q or S(k) + q.
 * Every balance is known in closed form (no window over the ledger), every event is applied and
 * every stock row stays above the low-stock threshold (S - q >= 11), so the status log holds
 * exactly the openings' out_of_stock -> available changes. Ids are deterministic (md5 of a label,
 * shaped as version 4 UUIDs), as random as real ones for the indexes.
 *
 * Indexes and unique constraints of the four tables are dropped before the load and rebuilt
 * after it from their own definitions (checked identical), which is much faster than random
 * inserts into them and gives the same indexes, only more tightly packed than years of inserts
 * would leave them. Constraints, triggers (the running totals) and durability stay on.
 */
import type pg from 'pg';

export interface PreloadOptions {
  /** Ledger rows to write (rounded down to the openings plus whole movements). */
  rows: number;
  /** The stream's warehouse and product ids (load/generator/plan.ts planKeyIds). */
  warehouseIds: readonly string[];
  productIds: readonly string[];
  /** event_time of the ledger row after the last preloaded one (the stream's start), epoch ms. */
  endTimeMs: number;
  /** One line per step, with rates and an ETA. */
  onProgress?: (line: string) => void;
}

/** How many rows of each kind a preload of `rows` ledger rows writes. */
export interface PreloadShape {
  keys: number;
  /** Supply arrivals, one per key (fewer when rows < keys). */
  openings: number;
  /** Movements with both sides after the openings. */
  movements: number;
  /** Rounds of movements, the last possibly partial. */
  rounds: number;
  /** openings + 2 x movements (rows, or rows - 1). */
  ledgerRows: number;
}

/** Milliseconds between two preloaded events' event times (100 events/s of history). */
export const PRELOAD_EVENT_STEP_MS = 10;
/** Rows per received_at value: one per batch, as the processor writes them. */
const RECEIVED_BATCH_ROWS = 20_000;
/** The topic and consumer group the preloaded ledger rows claim to come from. */
export const PRELOAD_TOPIC = 'preload';
const PRELOAD_PARTITIONS = 4;
/** The lowest S(k) - q(r, p): every preloaded balance stays above a threshold below it. */
const LOWEST_BALANCE = 11;
/** Ledger rows per INSERT statement: progress granularity. */
const CHUNK_ROWS = 1_000_000;
/** Tables whose indexes are rebuilt after the load. */
const TABLES = ['events', 'movements', 'stock', 'status_changes'] as const;

/** The counts of a preload (a pure function of its size and the number of keys). */
export function preloadShape(rows: number, warehouses: number, products: number): PreloadShape {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`preload rows must be an integer >= 0, got ${rows}`);
  if (warehouses < 2 || products < 1) throw new RangeError('a preload needs at least 2 warehouses and 1 product');
  const keys = warehouses * products;
  const openings = Math.min(rows, keys);
  const movements = rows > keys ? Math.floor((rows - keys) / 2) : 0;
  return { keys, openings, movements, rounds: Math.ceil(movements / keys), ledgerRows: openings + 2 * movements };
}

// SQL text of the closed-form history. `$n` placeholders are bound by the statements below.
/**
 * Gives every bare placeholder of `sql` a type (bigint unless `types` says otherwise), so that
 * PostgreSQL never infers one from the first context it meets (text, in `'v' || $7`).
 */
const typed = (sql: string, types: Record<number, string> = {}): string =>
  sql.replace(/\$(\d+)(?!\d|::)/g, (_, n: string) => `$${n}::${types[Number(n)] ?? 'bigint'}`);
const uuidOf = (label: string): string => `overlay(overlay(md5(${label}) placing '4' from 13) placing '8' from 17)::uuid`;
const messageId = (seq: string): string => uuidOf(`'m' || (${seq})`);
const openingQuantity = (key: string): string => `(51 + ((${key}) * 7919) % 450)`;
const roundQuantity = (round: string, product: string): string => `(1 + ((${round}) * 31 + (${product}) * 17) % 40)`;
const roundShift = (round: string, warehouses: string): string => `(1 + (${round}) % ((${warehouses}) - 1))`;
const movementId = (round: string, index: string): string => uuidOf(`'v' || (${round}) || ':' || (${index})`);
const openingMovementId = (key: string): string => uuidOf(`'o' || (${key})`);

/**
 * The ledger columns of the row at ledger position `seq`, from its warehouse and product numbers.
 * Parameters: $1 warehouse ids, $2 product ids, $3 base instant (seq 0).
 */
const ledgerColumns = (seq: string, warehouse: string, product: string): string => `
    ${messageId(seq)}, ${seq}, ($1::uuid[])[${warehouse} + 1], ($2::uuid[])[${product} + 1],
    $3::timestamptz + (${seq}) * interval '${PRELOAD_EVENT_STEP_MS} ms',
    $3::timestamptz + (${seq}) * interval '${PRELOAD_EVENT_STEP_MS} ms',
    'WH-' || (1000 + ${warehouse}), '${PRELOAD_TOPIC}', (${seq}) % ${PRELOAD_PARTITIONS}, (${seq}) / ${PRELOAD_PARTITIONS},
    'applied',
    $3::timestamptz + (((${seq}) - 1) / ${RECEIVED_BATCH_ROWS} + 1) * ${RECEIVED_BATCH_ROWS} * interval '${PRELOAD_EVENT_STEP_MS} ms' + interval '1 s'`;
const LEDGER_INSERT = `INSERT INTO events (message_id, seq, warehouse_id, product_id, event_time, produced_at, source, topic, "partition",
                    "offset", outcome, received_at, movement_id, event, quantity, stock_after)`;

/** Openings of keys [$4, $5): seq = key + 1; $6 warehouses. */
const INSERT_OPENINGS = typed(`${LEDGER_INSERT}
SELECT ${ledgerColumns('k + 1', 'k % $6', 'k / $6')},
       ${openingMovementId('k')}, 'arrival', ${openingQuantity('k')}, ${openingQuantity('k')}
  FROM generate_series($4::bigint, $5::bigint - 1) AS k`);

/**
 * Departures of round $7, movements [$4, $5): seq = $8 (the round's base) + j + 1.
 * $6 warehouses.
 */
const INSERT_DEPARTURES = typed(`${LEDGER_INSERT}
SELECT ${ledgerColumns('$8 + j + 1', 'j % $6', 'j / $6')},
       ${movementId('$7', 'j')}, 'departure', ${roundQuantity('$7', 'j / $6')},
       ${openingQuantity('j')} - ${roundQuantity('$7', 'j / $6')}
  FROM generate_series($4::bigint, $5::bigint - 1) AS j`);

/**
 * Arrivals of the same movements: seq = $9 + $8 + j + 1, at the warehouse `shift` further on;
 * the destination key's own departure of the round (index kd) came first when kd < $8.
 */
const INSERT_ARRIVALS = typed(`${LEDGER_INSERT}
SELECT ${ledgerColumns('$9 + $8 + j + 1', 'd.w', 'j / $6')},
       ${movementId('$7', 'j')}, 'arrival', ${roundQuantity('$7', 'j / $6')},
       ${openingQuantity('d.k')} - CASE WHEN d.k < $8 THEN ${roundQuantity('$7', 'j / $6')} ELSE 0 END + ${roundQuantity('$7', 'j / $6')}
  FROM generate_series($4::bigint, $5::bigint - 1) AS j
 CROSS JOIN LATERAL (SELECT (j % $6 + ${roundShift('$7', '$6')}) % $6 AS w,
                            (j / $6) * $6 + (j % $6 + ${roundShift('$7', '$6')}) % $6 AS k) d`);

/** Movements of round $3 ($5 of them, [$1, $2)), both sides; $4 warehouses, $6 the round's base seq, $7 the base instant. */
const INSERT_ROUND_MOVEMENTS = typed(`
INSERT INTO movements (movement_id, product_id, source_warehouse_id, departure_message_id, departed_at, quantity_sent,
                       departure_product_id, destination_warehouse_id, arrival_message_id, arrived_at, quantity_received,
                       arrival_product_id)
SELECT ${movementId('$3', 'j')}, ($9::uuid[])[j / $4 + 1],
       ($8::uuid[])[j % $4 + 1], ${messageId('$6 + j + 1')}, $7::timestamptz + ($6 + j + 1) * interval '${PRELOAD_EVENT_STEP_MS} ms',
       ${roundQuantity('$3', 'j / $4')}, ($9::uuid[])[j / $4 + 1],
       ($8::uuid[])[(j % $4 + ${roundShift('$3', '$4')}) % $4 + 1], ${messageId('$6 + $5 + j + 1')},
       $7::timestamptz + ($6 + $5 + j + 1) * interval '${PRELOAD_EVENT_STEP_MS} ms',
       ${roundQuantity('$3', 'j / $4')}, ($9::uuid[])[j / $4 + 1]
  FROM generate_series($1::bigint, $2::bigint - 1) AS j`);

/** The openings' movements (arrival only) of keys [$1, $2); $3 warehouses, $4 base instant, $5/$6 ids. */
const INSERT_OPENING_MOVEMENTS = typed(`
INSERT INTO movements (movement_id, product_id, destination_warehouse_id, arrival_message_id, arrived_at, quantity_received,
                       arrival_product_id)
SELECT ${openingMovementId('k')}, ($6::uuid[])[k / $3 + 1], ($5::uuid[])[k % $3 + 1], ${messageId('k + 1')},
       $4::timestamptz + (k + 1) * interval '${PRELOAD_EVENT_STEP_MS} ms', ${openingQuantity('k')}, ($6::uuid[])[k / $3 + 1]
  FROM generate_series($1::bigint, $2::bigint - 1) AS k`);

/**
 * Stock rows of keys [0, $1) after the whole history. $2 warehouses, $3 whether there are rounds,
 * $4 the last round, $5 its movements, $6 its base seq, $7 the round before's base seq, $8/$9 ids,
 * $10 the threshold. In the last round key k sent when k < $5 and received (from jin) when jin < $5;
 * its last event is that arrival, else that departure, else the round before's arrival, else its
 * opening.
 */
const INSERT_STOCK = typed(`
INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id)
SELECT ($8::uuid[])[k % $2 + 1], ($9::uuid[])[k / $2 + 1], x.quantity, stock_status_for(x.quantity::bigint, $10), ${messageId('x.last_seq')}
  FROM generate_series(0, $1::bigint - 1) AS k
 CROSS JOIN LATERAL (SELECT (k / $2) * $2 + ((k % $2 - ${roundShift('$4', '$2')}) % $2 + $2) % $2 AS jin,
                            (k / $2) * $2 + ((k % $2 - ${roundShift('$4 - 1', '$2')}) % $2 + $2) % $2 AS jin_before) j
 CROSS JOIN LATERAL (SELECT
        CASE WHEN NOT $3 THEN ${openingQuantity('k')}
             ELSE ${openingQuantity('k')} - CASE WHEN k < $5 THEN ${roundQuantity('$4', 'k / $2')} ELSE 0 END
                                         + CASE WHEN j.jin < $5 THEN ${roundQuantity('$4', 'k / $2')} ELSE 0 END END AS quantity,
        CASE WHEN $3 AND j.jin < $5 THEN $6 + $5 + j.jin + 1
             WHEN $3 AND k < $5 THEN $6 + k + 1
             WHEN $3 AND $4 > 0 THEN $7 + $11 + j.jin_before + 1
             ELSE k + 1 END AS last_seq) x`, { 3: 'boolean', 10: 'integer' });

/** The openings' status changes (out_of_stock -> their status), in ledger order. */
const INSERT_OPENING_STATUS = typed(`
INSERT INTO status_changes (warehouse_id, product_id, previous_status, status, quantity, message_id)
SELECT ($3::uuid[])[k % $2 + 1], ($4::uuid[])[k / $2 + 1], 'out_of_stock', stock_status_for(${openingQuantity('k')}::bigint, $5),
       ${openingQuantity('k')}, ${messageId('k + 1')}
  FROM generate_series(0, $1::bigint - 1) AS k
 ORDER BY k`, { 5: 'integer' });

interface SavedIndex {
  table: string;
  name: string;
  /** CREATE INDEX ... or ALTER TABLE ... ADD CONSTRAINT ... */
  create: string;
  drop: string;
}

/** The indexes and unique constraints of `TABLES`, with the statements that drop and recreate them. */
async function savedIndexes(client: pg.ClientBase): Promise<SavedIndex[]> {
  const { rows } = await client.query<{ table: string; name: string; indexdef: string; constraint_def: string | null }>(
    `SELECT i.tablename AS table, i.indexname AS name, i.indexdef,
            (SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
              WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
                AND c.contype IN ('p', 'u')) AS constraint_def
       FROM pg_indexes i
      WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
      ORDER BY i.tablename, i.indexname`,
    [TABLES],
  );
  return rows.map((row) =>
    row.constraint_def
      ? { table: row.table, name: row.name, create: `ALTER TABLE ${row.table} ADD CONSTRAINT ${row.name} ${row.constraint_def}`, drop: `ALTER TABLE ${row.table} DROP CONSTRAINT ${row.name}` }
      : { table: row.table, name: row.name, create: row.indexdef, drop: `DROP INDEX ${row.name}` },
  );
}

const definitions = async (client: pg.ClientBase): Promise<string> =>
  (await client.query<{ d: string }>(`SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) AS d FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1)`, [TABLES])).rows[0]!.d;

/** A progress line printer: rows done, rows/s, ETA. */
function progressMeter(total: number, onProgress: (line: string) => void): (done: number, what: string) => void {
  const started = performance.now();
  return (done, what) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = done / Math.max(seconds, 1e-3);
    const eta = rate > 0 ? (total - done) / rate : 0;
    onProgress(`preload ${what}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} rows, ${Math.round(rate).toLocaleString('en')} rows/s, ${seconds.toFixed(0)} s, ETA ${eta.toFixed(0)} s`);
  };
}

/**
 * Writes the preload on an empty, migrated database (fails on a non-empty ledger) and leaves it
 * vacuumed, analysed and checkpointed, as a long-running database would be. Returns its shape.
 */
export async function preload(client: pg.ClientBase, options: PreloadOptions): Promise<PreloadShape> {
  const W = options.warehouseIds.length;
  const shape = preloadShape(options.rows, W, options.productIds.length);
  const say = options.onProgress ?? (() => undefined);
  const { rows: nonEmpty } = await client.query('SELECT 1 FROM events LIMIT 1');
  if (nonEmpty.length > 0) throw new Error('preload needs an empty ledger');
  const threshold = (await client.query<{ t: number }>('SELECT low_stock_threshold AS t FROM stock_settings WHERE singleton')).rows[0]!.t;
  if (threshold >= LOWEST_BALANCE) throw new Error(`preload keeps balances at ${LOWEST_BALANCE} or more; the low-stock threshold ${threshold} would make status changes it does not log`);
  if (shape.ledgerRows === 0) return shape;

  const { K, O, M } = { K: shape.keys, O: shape.openings, M: shape.movements };
  const base = new Date(options.endTimeMs - (shape.ledgerRows + 1) * PRELOAD_EVENT_STEP_MS).toISOString();
  const wIds = [...options.warehouseIds];
  const pIds = [...options.productIds];
  // Index builds sort in memory up to maintenance_work_mem (a session setting of this load only).
  await client.query("SET maintenance_work_mem = '1GB'");

  const indexes = await savedIndexes(client);
  const before = await definitions(client);
  for (const index of indexes) await client.query(index.drop);

  const meter = progressMeter(shape.ledgerRows, say);
  let done = 0;
  for (let from = 0; from < O; from += CHUNK_ROWS) {
    const to = Math.min(O, from + CHUNK_ROWS);
    await client.query(INSERT_OPENINGS, [wIds, pIds, base, from, to, W]);
    await client.query(INSERT_OPENING_MOVEMENTS, [from, to, W, base, wIds, pIds]);
    done += to - from;
    meter(done, 'openings');
  }
  for (let round = 0; round < shape.rounds; round++) {
    const inRound = Math.min(K, M - round * K);
    const roundBase = O + 2 * round * K;
    for (const what of ['departures', 'arrivals'] as const) {
      for (let from = 0; from < inRound; from += CHUNK_ROWS) {
        const to = Math.min(inRound, from + CHUNK_ROWS);
        if (what === 'departures') await client.query(INSERT_DEPARTURES, [wIds, pIds, base, from, to, W, round, roundBase]);
        else await client.query(INSERT_ARRIVALS, [wIds, pIds, base, from, to, W, round, inRound, roundBase]);
        done += to - from;
        meter(done, `round ${round + 1}/${shape.rounds} ${what}`);
      }
    }
    await client.query(INSERT_ROUND_MOVEMENTS, [0, inRound, round, W, inRound, roundBase, base, wIds, pIds]);
  }
  const lastRound = Math.max(shape.rounds - 1, 0);
  await client.query(INSERT_STOCK, [
    O, W, shape.rounds > 0, lastRound, Math.min(K, M - lastRound * K), O + 2 * lastRound * K, O + 2 * Math.max(lastRound - 1, 0) * K, wIds, pIds, threshold, K,
  ]);
  await client.query(INSERT_OPENING_STATUS, [O, W, wIds, pIds, threshold]);
  await client.query('UPDATE status_change_counter SET total = total + $1 WHERE singleton', [O]);
  await client.query(`SELECT setval(pg_get_serial_sequence('events', 'seq'), $1)`, [shape.ledgerRows]);
  // Where the preloaded partitions' consumer group stands: after its last offset.
  await client.query(
    `INSERT INTO consumer_offsets (group_id, topic, "partition", next_offset)
     SELECT $1, $1, p, ((($2::bigint - p) / ${PRELOAD_PARTITIONS}) * ${PRELOAD_PARTITIONS} + p) / ${PRELOAD_PARTITIONS} + 1
       FROM generate_series(0, ${PRELOAD_PARTITIONS - 1}) AS p WHERE p <= $2`,
    [PRELOAD_TOPIC, shape.ledgerRows],
  );

  for (const index of indexes) {
    const started = performance.now();
    await client.query(index.create);
    say(`preload index ${index.name} built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const after = await definitions(client);
  if (after !== before) throw new Error(`preload rebuilt indexes that differ from the schema's:\n${before}\n---\n${after}`);
  const vacuumStarted = performance.now();
  for (const table of TABLES) await client.query(`VACUUM (ANALYZE) ${table}`);
  await client.query('CHECKPOINT');
  await client.query('RESET maintenance_work_mem');
  say(`preload vacuum, analyze and checkpoint in ${((performance.now() - vacuumStarted) / 1000).toFixed(1)} s`);
  return shape;
}
