/**
 * `make profile-merge`: where a batch's merge spends its time. Applies generated batches through
 * the processor's write path (COPY + apply_batch) on a private durable PostgreSQL, then times every
 * statement inside apply_batch for the last batch with auto_explain, and prints one line each,
 * then one line per named step (fence, classify, decide, ledger, stock, movements, status log).
 *
 * Options (environment): PROFILE_BATCH_RECORDS (default 20000), PROFILE_BATCHES (default 5),
 * PROFILE_PLANS=1 to print the full plans as well, PROFILE_SETUP_SQL='...' to run SQL statements (split
 * at each semicolon, each run on its own) on the fresh database before the batches: how a schema change is tried before it becomes a migration, e.g.
 * PROFILE_SETUP_SQL='ALTER TABLE stock SET (fillfactor = 80)'.
 *
 * `--preload N[,N...]` (issue 16; `make profile-merge ARGS='--preload 0,5M,20M'`): for each N, a
 * fresh database on the same server is first filled with N ledger rows of consistent history
 * (load/bench/preload.ts), then the same batches run on top. Per batch it prints merge time and the
 * merge backend's CPU per event; per size the relation sizes and shared-buffer hit ratios of the
 * batches before the last (the last runs under auto_explain); at the end one table over all sizes
 * with ratios to the first. The server runs with the shipped settings (lib/db/embedded-postgres.ts:
 * shared_buffers 1 GB), so large indexes no longer fit in it. Each database is dropped after its run.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../lib/db/embedded-postgres.js';
import { migrate } from '../../lib/db/migrations.js';
import { validateEnvelope, type Envelope } from '../../lib/event.js';
import { Batch } from '../../processor/batch.js';
import { applyBatch, prepareBatchSession } from '../../processor/sql/apply-batch.js';
import { readBatchChanges } from '../../processor/sql/batch-changes.js';
import { copyToStaging } from '../../processor/sql/copy-staging.js';
import { PLAN_DEFAULTS, planKeyIds, takeMessages } from '../generator/plan.js';
import { percentile } from '../lib/prom.js';
import { parsePreloadSizes } from './preload-sizes.js';
import { preload } from './preload.js';
import { formatStorage, hitRatio, processCpuSeconds, resetStorageStats, storageSnapshot, tableSizes, type StorageSnapshot } from './storage-stats.js';

const records = Number(process.env.PROFILE_BATCH_RECORDS ?? 20_000);
const batches = Number(process.env.PROFILE_BATCHES ?? 5);
const showPlans = process.env.PROFILE_PLANS === '1';
if (!Number.isInteger(records) || records < 1 || !Number.isInteger(batches) || batches < 1) {
  console.error('PROFILE_BATCH_RECORDS and PROFILE_BATCHES must be positive integers');
  process.exit(2);
}
const preloadArg = process.argv.indexOf('--preload');
let preloadSizes: number[] | undefined;
try {
  preloadSizes = preloadArg >= 0 ? parsePreloadSizes(process.argv[preloadArg + 1]) : undefined;
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
if (preloadSizes && batches < 2) {
  console.error('--preload needs PROFILE_BATCHES >= 2 (the last batch runs under auto_explain and is left out of the figures)');
  process.exit(2);
}

// The bench's stream: 200 warehouses x 5000 products, valid messages only.
const STREAM = { seed: 'make-bench', warehouses: 200, products: 5000 };
/** Tables whose sizes the preload summary shows. */
const BIG_TABLES = ['events', 'movements', 'stock', 'status_changes'];

/** What one size's run measured, for the summary table. */
interface SizeResult {
  preloaded: number;
  mergeMs: number[];
  batchMs: number[];
  cpuUsPerEvent: number[];
  events: number;
  /** Outcomes over the measured batches: the same stream meets different stock on a preloaded database. */
  outcomes: { applied: number; insufficientStock: number; duplicateMovement: number; statusChanges: number };
  storage?: StorageSnapshot;
  sizes: { table: string; heapMiB: number; indexesMiB: number }[];
}

const work = await mkdtemp(path.join(tmpdir(), 'wsm-merge-profile-'));
// Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
await chmod(work, 0o755);
const server = await startEmbeddedPostgres({ dataDir: path.join(work, 'postgres') });
try {
  const envelopes = takeMessages(STREAM, records * batches).flatMap((m) => (m.envelope ? [m.envelope] : []));
  if (!preloadSizes) {
    await profile(await server.createDatabase('profile'), envelopes, 0);
  } else {
    const results: SizeResult[] = [];
    for (const [index, size] of preloadSizes.entries()) {
      const name = `profile_${index}`;
      results.push(await profile(await server.createDatabase(name), envelopes, size));
      const admin = new pg.Client({ connectionString: server.adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`).finally(() => admin.end());
      printSummary(results);
    }
  }
} finally {
  await server.stop();
  await rm(work, { recursive: true, force: true });
}

/** Runs the batches on database `url`, after a preload of `preloadRows` ledger rows when above 0. */
async function profile(url: string, envelopes: readonly Envelope[], preloadRows: number): Promise<SizeResult> {
  const client = new pg.Client({ connectionString: url });
  try {
    await migrate(url);
    await client.connect();
    const backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const result: SizeResult = {
      preloaded: 0, mergeMs: [], batchMs: [], cpuUsPerEvent: [], events: 0, sizes: [],
      outcomes: { applied: 0, insufficientStock: 0, duplicateMovement: 0, statusChanges: 0 },
    };
    if (preloadSizes) {
      console.log(`\n=== preload ${preloadRows.toLocaleString('en')} ledger rows ===`);
      const started = performance.now();
      const { warehouseIds, productIds } = planKeyIds(STREAM);
      const shape = await preload(client, { rows: preloadRows, warehouseIds, productIds, endTimeMs: PLAN_DEFAULTS.startTimeMs, onProgress: (line) => console.log(line) });
      result.preloaded = shape.ledgerRows;
      console.log(`preloaded ${shape.ledgerRows.toLocaleString('en')} ledger rows, ${shape.movements + shape.openings} movements, ${Math.min(shape.openings, shape.keys)} stock rows in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    const setupSql = process.env.PROFILE_SETUP_SQL;
    if (setupSql) {
      console.log(`setup: ${setupSql}`);
      // One statement at a time: a multi-statement string is one implicit transaction, where
      // VACUUM (FULL), CLUSTER and ALTER SYSTEM refuse to run.
      for (const statement of setupSql.split(';').map((text) => text.trim()).filter(Boolean)) await client.query(statement);
    }
    await prepareBatchSession(client);
    // Time spent reading blocks the buffer pool did not hold (pg_stat_database.blk_read_time).
    await client.query('SET track_io_timing = on');
    // Time per apply_batch step over every measured batch (pg_stat_user_functions), not only the last.
    await client.query("SET track_functions = 'pl'");
    await resetStorageStats(client);
    const notices: string[] = [];
    client.on('notice', (notice) => notices.push(notice.message ?? ''));
    let offset = 0;
    for (let index = 0; index < batches; index++) {
      const batch = new Batch('profile');
      for (const envelope of envelopes.slice(index * records, (index + 1) * records)) {
        const validated = validateEnvelope(envelope);
        if (validated.ok) batch.add({ kind: 'event', topic: 'profile', partition: 0, offset: offset++, key: null, event: validated.event });
      }
      const last = index === batches - 1;
      if (last) {
        // The figures cover the batches before this one, which runs under auto_explain's timing.
        if (preloadSizes) result.storage = await storageSnapshot(client);
        // auto_explain ships with PostgreSQL; at NOTICE level its plans come back to this client.
        await client.query("LOAD 'auto_explain'");
        await client.query(
          'SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = on; SET auto_explain.log_level = notice',
        );
      }
      const cpuBefore = processCpuSeconds(backendPid);
      const walBefore = await walTotals(client);
      const started = performance.now();
      await client.query('BEGIN');
      await copyToStaging(client, batch.events());
      const copied = performance.now();
      const applied = await applyBatch(client, { groupId: 'profile', topic: 'profile', ranges: batch.partitionRanges, gaps: batch.gaps });
      const merged = performance.now();
      await readBatchChanges(client, applied);
      await client.query('COMMIT');
      const committed = performance.now();
      const cpuUs = ((processCpuSeconds(backendPid) - cpuBefore) * 1e6) / batch.size;
      const walAfter = await walTotals(client);
      if (!last) {
        result.mergeMs.push(merged - copied);
        result.batchMs.push(committed - started);
        result.cpuUsPerEvent.push(cpuUs);
        result.events += batch.size;
        result.outcomes.applied += applied.applied;
        result.outcomes.insufficientStock += applied.insufficient_stock;
        result.outcomes.duplicateMovement += applied.duplicate_movement_event;
        result.outcomes.statusChanges += applied.status_changes;
      }
      console.log(
        `batch ${index + 1}/${batches}: ${batch.size} records, COPY ${(copied - started).toFixed(0)} ms, merge ${(merged - copied).toFixed(0)} ms, ` +
          `changes + commit ${(committed - merged).toFixed(0)} ms (${Math.round(batch.size / ((committed - started) / 1000))} records/s), ` +
          `database CPU ${cpuUs.toFixed(0)} µs/event, WAL ${((walAfter.bytes - walBefore.bytes) / batch.size).toFixed(0)} B/event ` +
          `(${((walAfter.fpi - walBefore.fpi) / batch.size).toFixed(2)} full-page images/event)${last ? ' (auto_explain)' : ''}`,
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
    if (result.storage) {
      result.sizes = await tableSizes(client, BIG_TABLES);
      console.log(`\nshared buffers over batches 1-${batches - 1} (${result.events} events; blocks read ${(result.storage.readMs / result.events * 1000).toFixed(1)} µs/event of read time):`);
      for (const line of formatStorage(result.storage, result.events)) console.log(line);
      console.log(`apply_batch steps, ms per batch over batches 1-${batches - 1}: ${formatSteps(result.storage, batches - 1)}`);
    }
    return result;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The server's WAL written so far (pg_stat_wal; the profile's database is the only one writing).
 * A backend reports its WAL usage when idle, at most once a second unless asked: the first query
 * asks, the second reads what the idle backend then reported (else a batch under a second reads 0).
 */
async function walTotals(client: pg.Client): Promise<{ bytes: number; fpi: number }> {
  await client.query('SELECT pg_stat_force_next_flush()');
  const row = (await client.query<{ bytes: string; fpi: string }>('SELECT wal_bytes::text AS bytes, wal_fpi::text AS fpi FROM pg_stat_wal')).rows[0]!;
  return { bytes: Number(row.bytes), fpi: Number(row.fpi) };
}

function formatSteps(storage: StorageSnapshot, measured: number): string {
  return Object.entries(storage.stepMs)
    .map(([step, ms]) => `${step} ${(ms / measured).toFixed(0)}`)
    .join(', ');
}

function quantile(values: readonly number[], q: number): number {
  return percentile([...values].sort((a, b) => a - b), q) ?? NaN;
}
function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}
function p90(values: readonly number[]): number {
  return quantile(values, 0.9);
}

/** The table over all sizes so far, as markdown, with ratios to the first size. */
function printSummary(results: readonly SizeResult[]): void {
  const first = results[0]!;
  console.log(`\nsummary (${records}-record batches, ${batches - 1} measured per size; medians over batches; ratio = median CPU per event / the first size's):`);
  console.log('| ledger rows before | merge ms median | merge ms p90 | batch ms median | DB CPU µs/event median | ratio | events+movements+stock indexes MiB | index hit % | heap hit % | read ms/batch |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const relations = r.storage?.relations ?? [];
    const sum = (heap: boolean, field: 'hits' | 'reads'): number => relations.filter((x) => (x.index === null) === heap).reduce((total, x) => total + x[field], 0);
    const indexMiB = r.sizes.filter((s) => s.table !== 'status_changes').reduce((total, s) => total + s.indexesMiB, 0);
    console.log(
      `| ${r.preloaded.toLocaleString('en')} | ${median(r.mergeMs).toFixed(0)} | ${p90(r.mergeMs).toFixed(0)} | ${median(r.batchMs).toFixed(0)} | ` +
        `${median(r.cpuUsPerEvent).toFixed(0)} | ${(median(r.cpuUsPerEvent) / median(first.cpuUsPerEvent)).toFixed(2)}x | ${indexMiB.toFixed(0)} | ` +
        `${hitRatio(sum(false, 'hits'), sum(false, 'reads')).toFixed(1)} | ${hitRatio(sum(true, 'hits'), sum(true, 'reads')).toFixed(1)} | ` +
        `${((r.storage?.readMs ?? 0) / Math.max(r.mergeMs.length, 1)).toFixed(0)} |`,
    );
  }
  console.log('\napply_batch steps, ms per batch (mean over the measured batches, pg_stat_user_functions):');
  for (const r of results) if (r.storage) console.log(`${r.preloaded.toLocaleString('en').padStart(12)}: ${formatSteps(r.storage, r.mergeMs.length)}`);
  console.log('\noutcomes over the measured batches (applied, insufficient_stock, duplicate_movement_event, status changes):');
  for (const r of results) {
    const o = r.outcomes;
    console.log(`${r.preloaded.toLocaleString('en').padStart(12)}: ${o.applied}, ${o.insufficientStock}, ${o.duplicateMovement}, ${o.statusChanges}`);
  }
}
