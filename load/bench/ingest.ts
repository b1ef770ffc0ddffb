import pg from 'pg';
import { ensureMockTopics } from '../../lib/kafka/topics.js';
import { freePort } from '../../lib/db/embedded-postgres.js';
import type { PlannedMessage } from '../generator/plan.js';
import { REPO_ROOT, startService } from '../lib/child.js';
import { cpuSecondsOf } from '../lib/process-cpu.js';
import type { BenchPostgres } from '../lib/embedded.js';
import { histogramQuantile, percentile, readHistogram, sumMetric } from '../lib/prom.js';
import { sendPlanned, sleep } from '../lib/send.js';
import { prepareStamped, stamp } from './stamped.js';
import path from 'node:path';

/**
 * One end-to-end ingest run: a fresh database, the real processor as a child process, the planned
 * messages produced through the mock cluster, paced so that the consumer's lag (produced minus
 * committed offsets, read from the database) stays under `maxLag`: the mock cluster keeps only
 * ~5 MB per partition (about 30k of these messages, measured) and drops older ones. Ends when every
 * offset is committed, then checks the ledger and dead-letter counts against what was sent.
 */

const STALL_MS = 60_000;

export interface IngestOptions {
  postgres: BenchPostgres;
  brokers: string;
  /** Pre-built messages (planning is not part of the measurement). */
  messages: readonly PlannedMessage[];
  batchMaxRecords: number;
  batchMaxWaitMs: number;
  label: string;
  maxLag?: number;
  /** Produce at this many messages per second instead of as fast as the lag allows. */
  rate?: number;
  onProgress?: (committed: number, note: string) => void;
}

export interface IngestResult {
  label: string;
  batchMaxRecords: number;
  batchMaxWaitMs: number;
  messages: number;
  seconds: number;
  eventsPerSecond: number;
  verified: { ok: boolean; ledger: number; expectedLedger: number; deadLetters: number; expectedDeadLetters: number; committedOffsets: number };
  batches: number;
  meanBatchRecords: number;
  flushSeconds: { p50?: number; p95?: number; p99?: number; sum: number };
  mergeSeconds: { p50?: number; p99?: number };
  copySeconds: { p50?: number; p99?: number };
  /** Records per second of flush time: what the write path sustains when never idle. */
  writePathEventsPerSecond: number;
  /** Produce → visible in the ledger, sampled every 250 ms, milliseconds. */
  freshnessMs: { samples: number; p50?: number; p95?: number; p99?: number; max?: number };
  peakRssBytes?: number;
  /**
   * CPU microseconds per message from readiness to the last commit: the processor process, the
   * database backend of its batch writer (COPY and merge), and this benchmark process (producer,
   * in-process mock broker, harness). Undefined where /proc is absent.
   */
  cpuMicrosPerMessage?: { processor?: number; writerBackend?: number; benchProcess: number };
  processorExitCode: number | null;
}

export async function runIngest(options: IngestOptions): Promise<IngestResult> {
  const maxLag = options.maxLag ?? 60_000;
  const tag = `${options.label}_${process.pid}`.replace(/[^a-z0-9_]/g, '_');
  const dbName = `bench_${tag}`;
  const databaseUrl = await options.postgres.freshDatabase(dbName);
  const topic = `bench.${tag}`;
  const groupId = `bench-${tag}`;
  const total = options.messages.length;
  const expectedLedger = new Set(options.messages.flatMap((m) => (m.kind !== 'invalid' && m.envelope ? [m.envelope.id] : []))).size;
  const expectedDeadLetters = options.messages.filter((m) => m.kind === 'invalid').length;

  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'bench-harness' });
  const committedNow = async (): Promise<number> =>
    Number((await pool.query<{ n: string }>('SELECT coalesce(sum(next_offset), 0) AS n FROM consumer_offsets WHERE group_id = $1 AND topic = $2', [groupId, topic])).rows[0]?.n ?? 0);

  // Stamp each message's envelope time when it is sent, so the processor's end-to-end latency and
  // our freshness samples measure this run, not the planning. Serialised here, before the clock
  // starts; sending writes the time's digits in place (stamped.ts).
  const prepared = prepareStamped(options.messages);
  let lastSentId: string | undefined;
  let lastSentAt = 0;
  const stream = (function* () {
    for (const m of prepared) {
      stamp(m, Date.now());
      if (m.id !== undefined) {
        lastSentId = m.id;
        lastSentAt = performance.now();
      }
      yield m.message;
    }
  })();

  // The processor refuses to start without its three topics.
  await ensureMockTopics(options.brokers, [topic, `${topic}.dlq`, `${topic}.notify`]);
  await sendPlanned({ brokers: options.brokers, topic, messages: stream, count: 1 });
  const port = await freePort();
  const processor = startService('processor', 'processor/main.ts', {
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: options.brokers,
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_NOTIFY_TOPIC: `${topic}.notify`,
    KAFKA_GROUP_ID: groupId,
    BATCH_MAX_RECORDS: String(options.batchMaxRecords),
    BATCH_MAX_WAIT_MS: String(options.batchMaxWaitMs),
    PROCESSOR_PORT: String(port),
    // Warnings and errors only, unless asked (BENCH_PROCESSOR_LOG_LEVEL=info to see every batch).
    LOG_LEVEL: process.env.BENCH_PROCESSOR_LOG_LEVEL ?? 'warn',
  }, path.join(REPO_ROOT, `.dev/bench-processor-${options.label}.log`));

  const freshness: number[] = [];
  let running = true;
  try {
    await processor.waitReady(`http://127.0.0.1:${port}/ready`);
    // Every 250 ms the message just sent becomes a sample; one poller looks all pending samples
    // up in the ledger with one query every 20 ms. (Forty watchers polling every 10 ms took about
    // a fifth of the machine's CPU at saturation, measured with top, and slowed what they measured.)
    const pending = new Map<string, number>();
    const poll = async (): Promise<void> => {
      if (pending.size === 0) return;
      const found = await pool.query<{ message_id: string }>('SELECT message_id FROM events WHERE message_id = ANY($1::uuid[])', [[...pending.keys()]]);
      const now = performance.now();
      for (const { message_id: id } of found.rows) {
        const sentAt = pending.get(id);
        if (sentAt !== undefined) freshness.push(now - sentAt);
        pending.delete(id);
      }
    };
    const cpuPerMessage = async (): Promise<IngestResult['cpuMicrosPerMessage']> => {
      const perMessage = (cpuSeconds: number | undefined) => (cpuSeconds === undefined ? undefined : (cpuSeconds * 1e6) / total);
      const processorNow = processor.child.pid ? await cpuSecondsOf(processor.child.pid) : undefined;
      // The writer's backend lives from the first batch to the end, so all of its CPU is this run's.
      const writer = await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'processor-writer'");
      const writerPid = writer.rows[0]?.pid;
      const bench = process.cpuUsage(benchCpuAtStart);
      return {
        processor: perMessage(processorNow !== undefined && processorCpuAtStart !== undefined ? processorNow - processorCpuAtStart : undefined),
        writerBackend: perMessage(writerPid === undefined ? undefined : await cpuSecondsOf(writerPid)),
        benchProcess: (bench.user + bench.system) / total,
      };
    };
    const sampler = (async () => {
      let seen = '';
      let sampledAt = 0;
      while (running) {
        await sleep(20);
        await poll();
        const [id, at] = [lastSentId, lastSentAt];
        if (performance.now() - sampledAt < 250 || id === undefined || id === seen) continue;
        sampledAt = performance.now();
        seen = id;
        pending.set(id, at);
      }
    })();

    const started = performance.now();
    const processorCpuAtStart = processor.child.pid ? await cpuSecondsOf(processor.child.pid) : undefined;
    const benchCpuAtStart = process.cpuUsage();
    let committed = 0;
    // A processor that commits nothing for this long is stuck (its log says why): fail the run
    // instead of waiting for ever.
    let lastAdvanceAt = performance.now();
    const refresh = async (): Promise<void> => {
      const now = await committedNow();
      if (now > committed) lastAdvanceAt = performance.now();
      committed = now;
      if (performance.now() - lastAdvanceAt > STALL_MS) {
        throw new Error(`no offset committed for ${STALL_MS / 1000} s (${committed} of ${total}); processor log ${processor.logFile}:\n${(await processor.logTail(5)).slice(0, 3000)}`);
      }
    };
    let sentSoFar = 1;
    const report = (): void => options.onProgress?.(committed, `sent ${sentSoFar}, lag ${sentSoFar - committed}`);
    // A paced run (the half-load freshness run) never waits at the gate, so the committed count
    // shown with each progress line is read here, one query at a time; a failure only skips a line.
    let progressRead: Promise<void> | undefined;
    const reportFresh = (): void => {
      progressRead ??= committedNow()
        .then((now) => {
          if (now > committed) [committed, lastAdvanceAt] = [now, performance.now()];
        })
        .catch(() => undefined)
        .finally(() => {
          progressRead = undefined;
          report();
        });
    };
    const stats = await sendPlanned({
      brokers: options.brokers,
      topic,
      messages: stream,
      count: total - 1,
      ...(options.rate ? { rate: options.rate } : {}),
      gateEvery: 1000,
      gate: async (sent) => {
        sentSoFar = sent + 1;
        if (sentSoFar - committed <= maxLag) return;
        for (await refresh(); sentSoFar - committed > maxLag; await refresh()) await sleep(20);
        report();
      },
      onProgress: (s) => {
        sentSoFar = s.sent + 1;
        reportFresh();
      },
    });
    await progressRead;
    if (stats.failed > 0) throw new Error(`${stats.failed} messages failed to send: ${stats.firstError}`);
    for (await refresh(); committed < total; await refresh()) {
      report();
      await sleep(10);
    }
    const drainDeadline = performance.now() + 30_000;
    const seconds = (performance.now() - started) / 1000;
    const cpuMicrosPerMessage = await cpuPerMessage();
    // Let the samples of the last messages be found (they are committed by now), then stop.
    while (pending.size > 0 && performance.now() < drainDeadline) await sleep(10);
    running = false;
    await sampler;

    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    const flush = readHistogram(metrics, 'wsm_processor_flush_duration_seconds');
    const merge = readHistogram(metrics, 'wsm_processor_merge_duration_seconds');
    const copy = readHistogram(metrics, 'wsm_processor_copy_duration_seconds');
    const records = readHistogram(metrics, 'wsm_processor_batch_records');
    const peakRssBytes = await processor.peakRssBytes();
    const counts = await pool.query<{ ledger: string; dead: string }>('SELECT (SELECT count(*) FROM events) AS ledger, (SELECT count(*) FROM dead_letters) AS dead');
    const ledger = Number(counts.rows[0]?.ledger);
    const deadLetters = Number(counts.rows[0]?.dead);
    const sorted = [...freshness].sort((a, b) => a - b);
    const processorExitCode = await processor.stop();
    return {
      label: options.label,
      batchMaxRecords: options.batchMaxRecords,
      batchMaxWaitMs: options.batchMaxWaitMs,
      messages: total,
      seconds,
      eventsPerSecond: total / seconds,
      verified: { ok: ledger === expectedLedger && deadLetters === expectedDeadLetters && committed === total, ledger, expectedLedger, deadLetters, expectedDeadLetters, committedOffsets: committed },
      batches: sumMetric(metrics, 'wsm_processor_batches_total'),
      meanBatchRecords: records.count > 0 ? records.sum / records.count : 0,
      flushSeconds: { p50: histogramQuantile(flush, 0.5), p95: histogramQuantile(flush, 0.95), p99: histogramQuantile(flush, 0.99), sum: flush.sum },
      mergeSeconds: { p50: histogramQuantile(merge, 0.5), p99: histogramQuantile(merge, 0.99) },
      copySeconds: { p50: histogramQuantile(copy, 0.5), p99: histogramQuantile(copy, 0.99) },
      writePathEventsPerSecond: flush.sum > 0 ? records.sum / flush.sum : 0,
      freshnessMs: { samples: sorted.length, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] },
      ...(peakRssBytes !== undefined ? { peakRssBytes } : {}),
      cpuMicrosPerMessage,
      processorExitCode,
    };
  } finally {
    running = false;
    await processor.stop();
    await pool.end();
    await options.postgres.dropDatabase(dbName).catch(() => undefined);
  }
}
