/**
 * `make bench`: the ingest benchmark. In one run, on one private durable PostgreSQL and one
 * librdkafka mock cluster: the raw COPY ceiling, the per-message baseline on 1 and 8 connections,
 * the processor end to end at the configured defaults, and a sweep of BATCH_MAX_RECORDS ×
 * BATCH_MAX_WAIT_MS. Writes load/results/bench.{json,md} and SVG charts.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/config.js';
import { decodeMessage, type MovementEvent } from '../../lib/event.js';
import { startMockCluster } from '../../lib/kafka/mock-cluster.js';
import { takeMessages } from '../generator/plan.js';
import { REPO_ROOT } from '../lib/child.js';
import { startBenchPostgres } from '../lib/embedded.js';
import { createProgress, formatCount } from '../lib/progress.js';
import { machineInfo, sourceVersion, writeReport } from '../report/write.js';
import { runBaseline, type BaselineResult } from './baseline.js';
import { runCopyCeiling } from './copy-ceiling.js';
import { runIngest, type IngestResult } from './ingest.js';
import { runMinimalMerge } from './minimal-merge.js';
import { beforeAfterSection, benchFigures, readBenchFigures } from './before-after.js';
import { buildBenchReport } from './report.js';

const list = (text: string): number[] => text.split(',').map(Number);

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      messages: { type: 'string', default: '200000' },
      'sweep-messages': { type: 'string', default: '50000' },
      'sweep-records': { type: 'string', default: '2000,10000,50000' },
      'sweep-waits': { type: 'string', default: '50,200,1000' },
      'baseline-seconds': { type: 'string', default: '10' },
      'copy-rows': { type: 'string', default: '200000' },
      // The design notes' prototype merged 200k-row batches; the processor's default is smaller.
      'minimal-batch': { type: 'string' },
      'freshness-seconds': { type: 'string', default: '20' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'load/results') },
      // An earlier run's bench.json to compare with (load/bench/before-after.ts).
      before: { type: 'string' },
    },
  });
  const messages = Number(values.messages);
  const sweepMessages = Number(values['sweep-messages']);
  const sweepRecords = values['sweep-records'] === '' ? [] : list(values['sweep-records']);
  const sweepWaits = list(values['sweep-waits']);
  const baselineSeconds = Number(values['baseline-seconds']);
  const copyRows = Number(values['copy-rows']);
  const freshnessSeconds = Number(values['freshness-seconds']);
  const defaults = loadConfig({});
  const minimalBatch = Number(values['minimal-batch'] ?? defaults.BATCH_MAX_RECORDS);
  const numbers = [messages, freshnessSeconds, sweepMessages, baselineSeconds, copyRows, minimalBatch, ...sweepRecords, ...sweepWaits];
  if (numbers.some((n) => !(n > 0))) throw new Error(`bad options (every number must be positive): ${JSON.stringify(values)}`);
  // Read first: a wrong path fails now, not after minutes of benchmarking.
  const before = values.before === undefined ? undefined : await readBenchFigures(values.before);
  const source = sourceVersion(REPO_ROOT);
  const machine = machineInfo();
  console.error(`bench on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB; ${formatCount(messages)} messages end to end, sweep ${sweepRecords.length}×${sweepWaits.length} of ${formatCount(sweepMessages)}`);

  const plan = { seed: 'make-bench', warehouses: 200, products: 5000, initialSupplies: 20_000 };
  const planned = takeMessages(plan, Math.max(messages, sweepMessages));
  const events: MovementEvent[] = [];
  for (const m of planned) {
    if (m.kind === 'invalid' || m.kind === 'duplicate') continue;
    const decoded = decodeMessage(m.value);
    if (decoded.ok) events.push(decoded.event);
  }

  const postgres = await startBenchPostgres('bench');
  const cluster = await startMockCluster();
  try {
    console.error(`[1/4] COPY ceiling: ${formatCount(Math.min(copyRows, events.length))} rows into an unlogged, unindexed table (best of 3)`);
    const copyUrl = await postgres.freshDatabase('bench_copy');
    const copy = await runCopyCeiling(copyUrl, events.slice(0, copyRows));
    await postgres.dropDatabase('bench_copy');
    console.error(`      ${copy.seconds.toFixed(3)} s, ${formatCount(copy.rowsPerSecond)} rows/s`);

    const minimalRows = Math.min(copyRows, events.length);
    console.error(`[1/4] minimal merge: ${formatCount(minimalRows)} rows in batches of ${formatCount(minimalBatch)} into a ledger with only a UUID key, plus a stock upsert`);
    const minimalUrl = await postgres.freshDatabase('bench_minimal');
    const minimal = await runMinimalMerge(minimalUrl, events.slice(0, minimalRows), minimalBatch);
    await postgres.dropDatabase('bench_minimal');
    console.error(`      ${minimal.seconds.toFixed(3)} s, ${formatCount(minimal.rowsPerSecond)} rows/s`);

    const baselines: BaselineResult[] = [];
    // The third run drops the ledger_totals triggers: every ledger insert bumps the same totals row,
    // whose lock is held to commit, so with them 8 connections are no faster than one.
    for (const { connections, withoutTotalsTriggers } of [
      { connections: 1, withoutTotalsTriggers: false },
      { connections: 8, withoutTotalsTriggers: false },
      { connections: 8, withoutTotalsTriggers: true },
    ]) {
      const variant = withoutTotalsTriggers ? ', without the ledger_totals triggers' : '';
      console.error(`[2/4] per-message baseline, ${connections} connection(s)${variant}, ${baselineSeconds} s`);
      const name = `bench_baseline_${connections}${withoutTotalsTriggers ? '_no_totals' : ''}`;
      const url = await postgres.freshDatabase(name);
      const progress = createProgress({ label: `baseline ×${connections}`, unit: 'events', everyMs: process.stderr.isTTY ? 200 : 2000 });
      const result = await runBaseline(url, events, connections, { maxSeconds: baselineSeconds, withoutTotalsTriggers, onProgress: (n) => progress.update(n) });
      progress.finish(result.events);
      await postgres.dropDatabase(name);
      baselines.push(result);
    }

    const ingest = async (label: string, count: number, batchMaxRecords: number, batchMaxWaitMs: number, rate?: number): Promise<IngestResult> => {
      const progress = createProgress({ label, total: count, unit: 'events', everyMs: process.stderr.isTTY ? 200 : 2000 });
      const result = await runIngest({
        postgres, brokers: cluster.bootstrapServers, messages: planned.slice(0, count), batchMaxRecords, batchMaxWaitMs, label, ...(rate ? { rate } : {}),
        onProgress: (committed, note) => progress.update(committed, note),
      });
      progress.finish(result.messages, result.verified.ok ? 'counts verified' : `COUNTS DIFFER: ${JSON.stringify(result.verified)}`);
      console.error(`      ${formatCount(result.eventsPerSecond)} events/s end to end, flush p50 ${ms(result.flushSeconds.p50)} p99 ${ms(result.flushSeconds.p99)}, freshness p50 ${result.freshnessMs.p50?.toFixed(0)} ms, peak RSS ${mib(result.peakRssBytes)}`);
      return result;
    };
    console.error(`[3/4] processor end to end at the defaults (BATCH_MAX_RECORDS=${defaults.BATCH_MAX_RECORDS}, BATCH_MAX_WAIT_MS=${defaults.BATCH_MAX_WAIT_MS})`);
    const main = await ingest('e2e-defaults', messages, defaults.BATCH_MAX_RECORDS, defaults.BATCH_MAX_WAIT_MS);

    // Freshness at saturation is the queue the pacing allows divided by the rate; at half the
    // measured rate it shows what a reader sees in normal operation.
    const halfRate = Math.max(100, Math.round(main.eventsPerSecond / 2));
    const steadyCount = Math.min(messages, halfRate * freshnessSeconds);
    console.error(`[3/4] freshness at half load: ${formatCount(halfRate)} events/s for ${freshnessSeconds} s`);
    const steady = await ingest('e2e-half-load', steadyCount, defaults.BATCH_MAX_RECORDS, defaults.BATCH_MAX_WAIT_MS, halfRate);

    const sweep: IngestResult[] = [];
    const failures: { batchMaxRecords: number; batchMaxWaitMs: number; error: string }[] = [];
    let point = 0;
    for (const records of sweepRecords) {
      for (const wait of sweepWaits) {
        console.error(`[4/4] sweep ${++point}/${sweepRecords.length * sweepWaits.length}: BATCH_MAX_RECORDS=${records}, BATCH_MAX_WAIT_MS=${wait}`);
        // One failed point (a stuck processor) is reported, and the sweep goes on.
        try {
          sweep.push(await ingest(`sweep-${records}-${wait}`, sweepMessages, records, wait));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          console.error(`      FAILED: ${message}`);
          failures.push({ batchMaxRecords: records, batchMaxWaitMs: wait, error: message.split('\n')[0] ?? message });
        }
      }
    }

    const command = `make bench${process.argv.length > 2 ? ` ARGS="${process.argv.slice(2).join(' ')}"` : ''}`;
    const after = benchFigures({ source, results: { baselines, main, steady } });
    const comparison = before ? beforeAfterSection(before, after) : undefined;
    const written = await writeReport(values.out, { ...buildBenchReport({ command, plan, copy, minimal, baselines, main, steady, sweep, failures, ...(comparison ? { comparison } : {}) }), source });
    const best = baselines.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
    console.log(
      [
        `COPY ceiling          ${formatCount(copy.rowsPerSecond)} rows/s`,
        `minimal merge         ${formatCount(minimal.rowsPerSecond)} rows/s (ledger with only a UUID key + stock upsert)`,
        ...baselines.map((b) => `per-message ×${b.connections}${b.withoutTotalsTriggers ? '*' : ''}`.padEnd(22) + `${formatCount(b.eventsPerSecond)} events/s${b.withoutTotalsTriggers ? ' (* without the ledger_totals triggers)' : ''}`),
        `processor end to end  ${formatCount(main.eventsPerSecond)} events/s (${(main.eventsPerSecond / best.eventsPerSecond).toFixed(1)}× the best baseline), counts ${main.verified.ok ? 'verified' : 'DIFFER'}`,
        `processor write path  ${formatCount(main.writePathEventsPerSecond)} events/s of flush time`,
        `CPU per message       processor ${fmtMicros(main.cpuMicrosPerMessage?.processor)}, writer backend ${fmtMicros(main.cpuMicrosPerMessage?.writerBackend)}, bench process ${fmtMicros(main.cpuMicrosPerMessage?.benchProcess)}`,
        `freshness at ${formatCount(halfRate)}/s  p50 ${steady.freshnessMs.p50?.toFixed(0)} ms, p99 ${steady.freshnessMs.p99?.toFixed(0)} ms (produced → visible in the ledger)`,
        ...(before ? [`before (${before.source})   ${formatCount(before.eventsPerSecond)} events/s (${(before.eventsPerSecond / before.bestBaselineEventsPerSecond).toFixed(1)}× its best baseline); CPU per message processor ${fmtMicros(before.cpu.processor)}, writer backend ${fmtMicros(before.cpu.writerBackend)}, bench process ${fmtMicros(before.cpu.benchProcess)}; freshness p99 ${before.freshnessHalfLoadMs.p99?.toFixed(0)} ms`] : []),
        `results: ${written.markdown}\n         ${written.json}`,
      ].join('\n'),
    );
    if (failures.length > 0 || !main.verified.ok || !steady.verified.ok || sweep.some((s) => !s.verified.ok)) process.exitCode = 1;
  } finally {
    await cluster.stop();
    await postgres.stop();
  }
}

const ms = (seconds: number | undefined): string => (seconds === undefined ? '-' : `${(seconds * 1000).toFixed(0)} ms`);
const fmtMicros = (micros: number | undefined): string => (micros === undefined ? '-' : `${Math.round(micros)} µs`);
const mib = (bytes: number | undefined): string => (bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
