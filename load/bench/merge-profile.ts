/**
 * `make profile-merge`: where a batch's merge spends its time. Applies generated batches through
 * the processor's write path (COPY + apply_batch) on a private durable PostgreSQL, then times every
 * statement inside apply_batch for the last batch with auto_explain, and prints one line each,
 * then one line per named step (fence, classify, decide, ledger, stock, movements, status log).
 *
 * Options (environment): PROFILE_BATCH_RECORDS (default 20000), PROFILE_BATCHES (default 5),
 * PROFILE_PLANS=1 to print the full plans as well, PROFILE_SETUP_SQL='...' to run SQL on the fresh
 * database before the batches: how a schema change is tried before it becomes a migration, e.g.
 * PROFILE_SETUP_SQL='ALTER TABLE stock SET (fillfactor = 80)'.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../lib/db/embedded-postgres.js';
import { migrate } from '../../lib/db/migrations.js';
import { validateEnvelope } from '../../lib/event.js';
import { Batch } from '../../processor/batch.js';
import { applyBatch, prepareBatchSession } from '../../processor/sql/apply-batch.js';
import { readBatchChanges } from '../../processor/sql/batch-changes.js';
import { copyToStaging } from '../../processor/sql/copy-staging.js';
import { takeMessages } from '../generator/plan.js';

const records = Number(process.env.PROFILE_BATCH_RECORDS ?? 20_000);
const batches = Number(process.env.PROFILE_BATCHES ?? 5);
const showPlans = process.env.PROFILE_PLANS === '1';
if (!Number.isInteger(records) || records < 1 || !Number.isInteger(batches) || batches < 1) {
  console.error('PROFILE_BATCH_RECORDS and PROFILE_BATCHES must be positive integers');
  process.exit(2);
}

const work = await mkdtemp(path.join(tmpdir(), 'wsm-merge-profile-'));
// Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
await chmod(work, 0o755);
const server = await startEmbeddedPostgres({ dataDir: path.join(work, 'postgres') });
const url = await server.createDatabase('profile');
const client = new pg.Client({ connectionString: url });
try {
  await migrate(url);
  await client.connect();
  const setupSql = process.env.PROFILE_SETUP_SQL;
  if (setupSql) {
    console.log(`setup: ${setupSql}`);
    await client.query(setupSql);
  }
  await prepareBatchSession(client);
  // The bench's stream: 200 warehouses x 5000 products, valid messages only.
  const envelopes = takeMessages({ seed: 'make-bench', warehouses: 200, products: 5000 }, records * batches).flatMap((m) => (m.envelope ? [m.envelope] : []));
  const notices: string[] = [];
  client.on('notice', (notice) => notices.push(notice.message ?? ''));
  let offset = 0;
  for (let index = 0; index < batches; index++) {
    const batch = new Batch('profile');
    for (const envelope of envelopes.slice(index * records, (index + 1) * records)) {
      const result = validateEnvelope(envelope);
      if (result.ok) batch.add({ kind: 'event', topic: 'profile', partition: 0, offset: offset++, key: null, event: result.event });
    }
    const last = index === batches - 1;
    if (last) {
      // auto_explain ships with PostgreSQL; at NOTICE level its plans come back to this client.
      await client.query("LOAD 'auto_explain'");
      await client.query(
        'SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = on; SET auto_explain.log_level = notice',
      );
    }
    const started = performance.now();
    await client.query('BEGIN');
    await copyToStaging(client, batch.events());
    const copied = performance.now();
    const applied = await applyBatch(client, { groupId: 'profile', topic: 'profile', ranges: batch.partitionRanges, gaps: batch.gaps });
    const merged = performance.now();
    await readBatchChanges(client, applied);
    await client.query('COMMIT');
    const committed = performance.now();
    console.log(
      `batch ${index + 1}/${batches}: ${batch.size} records, COPY ${(copied - started).toFixed(0)} ms, merge ${(merged - copied).toFixed(0)} ms, ` +
        `changes + commit ${(committed - merged).toFixed(0)} ms (${Math.round(batch.size / ((committed - started) / 1000))} records/s)`,
    );
  }
  console.log('\nstatements of the last batch taking 1 ms or more (auto_explain, ms):');
  const steps: string[] = [];
  for (const notice of notices) {
    const duration = /duration: ([\d.]+) ms/.exec(notice)?.[1];
    const text = /Query Text: ([^\n]+)/.exec(notice)?.[1]?.trim() ?? '';
    if (duration && Number(duration) >= 1) console.log(`${duration.padStart(10)}  ${text.slice(0, 100)}`);
    // apply_batch's named steps (prisma/migrations/…_apply_batch_steps): one line each below.
    const step = /apply_batch_(\w+)\(/.exec(text)?.[1];
    if (duration && step) steps.push(`${duration.padStart(10)}  ${step}`);
    if (showPlans) console.log(notice);
  }
  console.log('\napply_batch steps of the last batch (ms):');
  for (const line of steps) console.log(line);
} finally {
  await client.end().catch(() => undefined);
  await server.stop();
  await rm(work, { recursive: true, force: true });
}
