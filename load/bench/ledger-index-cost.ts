/**
 * `npx tsx load/bench/ledger-index-cost.ts`: what the read path's two ledger time indexes
 * (prisma/migrations/*_read_path_indexes) cost the processor's ledger insert. On a private durable
 * PostgreSQL, four copies of `events` (the init migration's indexes; plus events_event_time_idx;
 * plus events_received_idx; plus both) each get 500k rows, then the same 20k-row batches in
 * message-id order (as apply_batch inserts them), in a rotating order for 12 rounds. Prints the
 * median time per batch and the median of each copy's per-round ratio to the first.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../lib/db/embedded-postgres.js';
import { migrate } from '../../lib/db/migrations.js';

const ROUNDS = 12;
const BATCH = 20_000;
const WARM_BATCHES = 25;
const TABLES = { base: [], event_time: ['%received_at%'], received_at: ['%event_time%'], both: [] } as Record<string, string[]>;

const work = await mkdtemp(path.join(tmpdir(), 'wsm-index-cost-'));
await chmod(work, 0o755);
const server = await startEmbeddedPostgres({ dataDir: path.join(work, 'postgres') });
const client = new pg.Client({ connectionString: await server.createDatabase('index_cost') });
try {
  await migrate(server.urlFor('index_cost'));
  await client.connect();
  for (const [name, drops] of Object.entries(TABLES)) {
    await client.query(`CREATE TABLE ev_${name} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
    for (const like of name === 'base' ? ['%event_time%', '%received_at%'] : drops) {
      const { rows } = await client.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE $2', [`ev_${name}`, like]);
      for (const row of rows) await client.query(`DROP INDEX ${row.indexname}`);
    }
  }
  let from = 0;
  // Random message, movement ids; 200 warehouses x 5000 products; event times 50 ms apart with up to
  // 10 minutes of lateness; one received_at per batch, as now() in apply_batch.
  const insert = (table: string) =>
    client.query(`INSERT INTO ev_${table} (message_id, seq, movement_id, warehouse_id, product_id, event, quantity, event_time, produced_at,
                    source, topic, "partition", "offset", outcome, reject_reason, stock_after, received_at)
      SELECT gen_random_uuid(), ${from} + g, gen_random_uuid(), md5('w' || (g % 200))::uuid, md5('p' || (g * 7 % 5000))::uuid, 'arrival', 1,
             timestamptz '2025-01-01' + (${from} + g) * interval '50 ms' + random() * interval '10 minutes', now(), 'WH-1', 't', 0, ${from} + g,
             'applied', NULL, 1, now()
        FROM generate_series(1, ${BATCH}) g ORDER BY 1`);
  const tables = Object.keys(TABLES);
  for (let i = 0; i < WARM_BATCHES; i++, from += BATCH) for (const table of tables) await insert(table);
  for (const table of tables) await client.query(`VACUUM ANALYZE ev_${table}`);
  const times: Record<string, number[]> = Object.fromEntries(tables.map((t) => [t, []]));
  for (let round = 0; round < ROUNDS; round++, from += BATCH) {
    for (const table of tables.map((_, k) => tables[(k + round) % tables.length]!)) {
      const started = performance.now();
      await insert(table);
      times[table]!.push(performance.now() - started);
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  console.log(`\n${BATCH}-row ledger inserts into ${WARM_BATCHES * BATCH} rows, median of ${ROUNDS} rounds:`);
  for (const table of tables) {
    const ratio = median(times[table]!.map((ms, i) => ms / times.base![i]!));
    console.log(`  ${table.padEnd(12)} ${median(times[table]!).toFixed(0).padStart(6)} ms   ${ratio.toFixed(2)}x the init migration's indexes`);
  }
} finally {
  await client.end().catch(() => undefined);
  await server.stop();
  await rm(work, { recursive: true, force: true });
}
