import type { PlanOptions } from '../generator/plan.js';
import { markdownTable, type Report, type ReportSection } from '../report/write.js';
import type { BaselineResult } from './baseline.js';
import type { CopyCeilingResult } from './copy-ceiling.js';
import type { IngestResult } from './ingest.js';
import type { MinimalMergeResult } from './minimal-merge.js';

/** The `make bench` report: the comparison, the end-to-end run's latencies, the batch sweep. */
export function buildBenchReport(input: { command: string; plan: PlanOptions; copy: CopyCeilingResult; minimal?: MinimalMergeResult; baselines: BaselineResult[]; main: IngestResult; steady: IngestResult; sweep: IngestResult[]; failures?: { batchMaxRecords: number; batchMaxWaitMs: number; error: string }[]; comparison?: ReportSection }): Report {
  const { copy, baselines, main, steady, sweep } = input;
  const failures = input.failures ?? [];
  const one = baselines.find((b) => b.connections === 1 && !b.withoutTotalsTriggers);
  const ratio = (rate: number): string => (one ? `${(rate / one.eventsPerSecond).toFixed(1)}×` : '-');
  const ms = (s: number | undefined): string => (s === undefined ? '-' : (s * 1000).toFixed(0));
  const rows: [string, number, string][] = [
    ...baselines.map((b): [string, number, string] => [`per-message baseline, ${b.connections} connection${b.connections > 1 ? 's' : ''} (one transaction per event, SELECT … FOR UPDATE)${b.withoutTotalsTriggers ? ', ledger_totals triggers disabled' : ''}`, b.eventsPerSecond, `${b.events} events in ${b.seconds.toFixed(1)} s`]),
    [`processor end to end (produce → mock Kafka → processor → commit), BATCH_MAX_RECORDS=${main.batchMaxRecords}, BATCH_MAX_WAIT_MS=${main.batchMaxWaitMs}`, main.eventsPerSecond, `${main.messages} messages in ${main.seconds.toFixed(1)} s, counts ${main.verified.ok ? 'verified' : 'DIFFER'}`],
    ['processor write path (records ÷ time spent flushing: COPY + merge + commit)', main.writePathEventsPerSecond, `${main.batches} batches, ${main.flushSeconds.sum.toFixed(2)} s flushing`],
    ...(input.minimal
      ? [['minimal merge: COPY + ledger with only a UUID key + stock upsert, durable (the design notes\' prototype; none of the product\'s other rules)', input.minimal.rowsPerSecond, `${input.minimal.rows} rows in batches of ${input.minimal.batchRows}, ${input.minimal.seconds.toFixed(2)} s`] as [string, number, string]]
      : []),
    ['raw COPY ceiling (unlogged, unindexed table, no merge)', copy.rowsPerSecond, `${copy.rows} rows in ${copy.seconds.toFixed(3)} s`],
  ];
  const cpu = main.cpuMicrosPerMessage;
  const micros = (value: number | undefined): string => (value === undefined ? 'not measured' : `${Math.round(value)} µs`);
  const cpuSection = cpu
    ? [
        '',
        `CPU per message in the end-to-end run (from /proc, readiness to the last commit): processor process ${micros(cpu.processor)}, its batch writer's PostgreSQL backend (COPY and merge) ${micros(cpu.writerBackend)}, benchmark process (producer, mock broker, harness) ${micros(cpu.benchProcess)}. At 100k messages/s that would take ${(((cpu.processor ?? 0) + (cpu.writerBackend ?? 0) + cpu.benchProcess) / 10).toFixed(1)} cores; the machine has two, and one merge runs at a time (the merge lock, docs/scaling.md).`,
      ]
    : [];
  const waits = [...new Set(sweep.map((s) => s.batchMaxWaitMs))].sort((a, b) => a - b);
  const sweepSeries = (value: (r: IngestResult) => number | undefined) =>
    waits.map((w) => ({
      name: `BATCH_MAX_WAIT_MS ${w}`,
      points: sweep.filter((s) => s.batchMaxWaitMs === w).flatMap((s): [number, number][] => { const v = value(s); return v === undefined ? [] : [[s.batchMaxRecords, v]]; }),
    }));
  return {
    name: 'bench',
    title: 'Ingest benchmark (make bench)',
    command: input.command,
    data: input,
    sections: [
      ...(input.comparison ? [input.comparison] : []),
      {
        heading: 'Throughput against the baseline and the ceiling',
        body: [
          markdownTable(['path', 'events/s', '× per-message (1 conn)', 'detail'], rows.map(([name, rate, detail]) => [name, Math.round(rate), ratio(rate), detail])),
          '',
          `Everything runs co-located on this machine: PostgreSQL (durable settings: fsync and synchronous_commit on), the mock Kafka cluster and the producer in the benchmark process, the processor as a child process. The producer is paced to keep the consumer within 60k messages, because the mock cluster keeps only ~5 MB per partition; the end-to-end figure is therefore bounded by the co-located producer as well as by the processor. The write-path figure is what the processor's database work sustains when it is never waiting for input. Generated stream: ${input.plan.warehouses} warehouses × ${input.plan.products} products, seed "${String(input.plan.seed)}", with the generator's default shares of losses, late arrivals, duplicates (1%) and invalid messages (1%).`,
          ...cpuSection,
        ].join('\n'),
        charts: [
          {
            file: 'throughput',
            chart: {
              kind: 'bar',
              title: 'Ingest throughput: per-message baseline, processor, COPY ceiling',
              yLabel: 'events per second',
              categories: ['per-message ×1', 'per-message ×8', 'processor e2e', 'write path', 'COPY ceiling'],
              series: [{ name: 'events/s (same run, same machine)', values: [one?.eventsPerSecond ?? null, baselines.find((b) => b.connections === 8 && !b.withoutTotalsTriggers)?.eventsPerSecond ?? null, main.eventsPerSecond, main.writePathEventsPerSecond, copy.rowsPerSecond] }],
            },
          },
        ],
      },
      {
        heading: 'Latency of the end-to-end run',
        body: [
          markdownTable(
            ['measure', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
            [
              ['batch flush (BEGIN, COPY, merge, COMMIT), from wsm_processor_flush_duration_seconds', ms(main.flushSeconds.p50), ms(main.flushSeconds.p95), ms(main.flushSeconds.p99), '-'],
              ['COPY into staging (wsm_processor_copy_duration_seconds)', ms(main.copySeconds.p50), '-', ms(main.copySeconds.p99), '-'],
              ['merge, apply_batch (wsm_processor_merge_duration_seconds)', ms(main.mergeSeconds.p50), '-', ms(main.mergeSeconds.p99), '-'],
              [`freshness at saturation: produced → visible in the ledger (${main.freshnessMs.samples} samples)`, fx(main.freshnessMs.p50), fx(main.freshnessMs.p95), fx(main.freshnessMs.p99), fx(main.freshnessMs.max)],
              [`freshness at half load (${Math.round(steady.messages / steady.seconds)} events/s for ${steady.seconds.toFixed(0)} s, ${steady.freshnessMs.samples} samples)`, fx(steady.freshnessMs.p50), fx(steady.freshnessMs.p95), fx(steady.freshnessMs.p99), fx(steady.freshnessMs.max)],
            ],
          ),
          '',
          'At saturation the producer keeps the consumer 60k messages behind (the pacing limit), so freshness there is that queue divided by the rate; the half-load run shows what a reader sees in normal operation.',
          '',
          `Histogram percentiles are interpolated inside buckets (as PromQL's histogram_quantile). ${main.batches} batches, ${Math.round(main.meanBatchRecords)} records each on average. Peak RSS of the processor: ${main.peakRssBytes ? `${(main.peakRssBytes / 2 ** 20).toFixed(0)} MiB` : 'not measured'}. Verified: ledger ${main.verified.ledger} of ${main.verified.expectedLedger} distinct valid events, dead letters ${main.verified.deadLetters} of ${main.verified.expectedDeadLetters}, committed offsets ${main.verified.committedOffsets} of ${main.messages}.`,
        ].join('\n'),
        charts: [
          {
            file: 'latency',
            chart: {
              kind: 'bar',
              title: 'Batch flush time (saturated) and freshness (half load)',
              yLabel: 'milliseconds (ms)',
              xLabel: 'percentile',
              categories: ['p50', 'p95', 'p99'],
              series: [
                { name: 'batch flush', values: [main.flushSeconds.p50, main.flushSeconds.p95, main.flushSeconds.p99].map((s) => (s === undefined ? null : s * 1000)) },
                { name: 'produced → visible, half load', values: [steady.freshnessMs.p50 ?? null, steady.freshnessMs.p95 ?? null, steady.freshnessMs.p99 ?? null] },
              ],
            },
          },
        ],
      },
      ...(sweep.length === 0
        ? []
        : [
            {
              heading: 'Sweep of BATCH_MAX_RECORDS × BATCH_MAX_WAIT_MS',
              body: [
                ...failures.map((f) => `- **Failed**: BATCH_MAX_RECORDS=${f.batchMaxRecords}, BATCH_MAX_WAIT_MS=${f.batchMaxWaitMs}: ${f.error}`),
                failures.length > 0 ? '' : undefined,
                markdownTable(
                ['BATCH_MAX_RECORDS', 'BATCH_MAX_WAIT_MS', 'events/s e2e', 'write path events/s', 'batches', 'mean batch', 'flush p50 ms', 'flush p99 ms', 'freshness p50 ms', 'freshness p99 ms', 'peak RSS MiB', 'verified'],
                sweep.map((s) => [s.batchMaxRecords, s.batchMaxWaitMs, Math.round(s.eventsPerSecond), Math.round(s.writePathEventsPerSecond), s.batches, Math.round(s.meanBatchRecords), ms(s.flushSeconds.p50), ms(s.flushSeconds.p99), fx(s.freshnessMs.p50), fx(s.freshnessMs.p99), s.peakRssBytes ? Math.round(s.peakRssBytes / 2 ** 20) : '-', s.verified.ok ? 'yes' : 'NO']),
                ),
              ].filter((line) => line !== undefined).join('\n'),
              charts: [
                { file: 'sweep-throughput', chart: { kind: 'line' as const, title: 'End-to-end throughput by BATCH_MAX_RECORDS', xLabel: 'BATCH_MAX_RECORDS (records, log scale)', yLabel: 'events per second', logX: true, series: sweepSeries((s) => s.eventsPerSecond) } },
                { file: 'sweep-write-path', chart: { kind: 'line' as const, title: 'Write-path throughput by BATCH_MAX_RECORDS', xLabel: 'BATCH_MAX_RECORDS (records, log scale)', yLabel: 'events per second of flush time', logX: true, series: sweepSeries((s) => s.writePathEventsPerSecond) } },
                { file: 'sweep-freshness', chart: { kind: 'line' as const, title: 'Freshness at saturation (p50) by BATCH_MAX_RECORDS', xLabel: 'BATCH_MAX_RECORDS (records, log scale)', yLabel: 'milliseconds (ms)', logX: true, series: sweepSeries((s) => s.freshnessMs.p50) } },
              ],
            },
          ]),
    ],
  };
}

const fx = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(0));
