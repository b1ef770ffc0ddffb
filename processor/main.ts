/**
 * The processor: wiring and the shutdown order. Start: config, metrics, database, Kafka producer
 * (dead letters, notifications), consumer, health server, consume loop. SIGTERM/SIGINT: stop
 * fetching, flush what is held, commit, leave the group, close, exit 0.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { loadConfig, type Config } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { startMockCluster, type MockCluster } from '../lib/kafka/mock-cluster.js';
import { KafkaProducer } from '../lib/kafka/producer.js';
import { ensureMockTopics, missingTopics } from '../lib/kafka/topics.js';
import { connectionConfig } from '../lib/db/connection.js';
import { redactUrl } from '../lib/db/url.js';
import { PROCESSOR_SHUTDOWN_BUDGET_MS } from '../lib/shutdown-budget.js';
import { retry } from './backoff.js';
import { Flusher, FlushAbandoned } from './flusher.js';
import { startHealthServer } from './health.js';
import { createProcessorMetrics, type ProcessorMetrics } from './metrics.js';
import { Notifier } from './notifier.js';
import type { StoppedPartition } from './offset-range.js';
import { Runner } from './runner.js';
import { readStatusChanges } from './sql/batch-changes.js';
import { readStoredOffsets } from './sql/offsets.js';
import { setLowStockThreshold } from './sql/stock-settings.js';
import { BatchWriter } from './writer.js';

const log = createLogger('main');

/**
 * How long shutdown waits for the last flush before leaving the rest to redelivery: one step of the
 * shutdown budget, whose steps together stay under the container's grace period (lib/shutdown-budget.ts).
 */
const SHUTDOWN_FLUSH_TIMEOUT_MS = PROCESSOR_SHUTDOWN_BUDGET_MS.lastFlush;

async function main(): Promise<void> {
  const config = loadConfig();
  const metrics = createProcessorMetrics();
  const clientId = `processor-${hostname()}-${process.pid}`;

  let mock: MockCluster | undefined;
  let brokers = config.KAFKA_BROKERS;
  if (brokers === 'mock') {
    mock = await startMockCluster();
    brokers = mock.bootstrapServers;
    await ensureMockTopics(brokers, [config.KAFKA_TOPIC, config.KAFKA_DLQ_TOPIC, config.KAFKA_NOTIFY_TOPIC]);
    log.info({ brokers }, 'started the in-process librdkafka mock cluster');
  }
  await assertTopicsExist(brokers, config);

  // Small pool for start offsets, readiness and the threshold; batches go through the writer's own
  // connection. Its statements are trivial: 5 s bounds them, so /ready answers within ~10 s
  // even when the database stopped answering (lib/db/connection.ts).
  const pool = new pg.Pool({ ...connectionConfig(config.DATABASE_URL, { applicationName: 'processor', statementTimeoutMs: 5000 }), max: 2 });
  pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));
  const writer = new BatchWriter({
    databaseUrl: config.DATABASE_URL,
    groupId: config.KAFKA_GROUP_ID,
    statementTimeoutMs: config.PROCESSOR_STATEMENT_TIMEOUT_MS,
    collectNotifications: true,
    crashAt: config.PROCESSOR_CRASH_AT,
    crashOnBatch: config.PROCESSOR_CRASH_ON_BATCH,
  });
  // Two producers: dead letters must never wait behind notifications, whose queue can fill (they
  // are produced unawaited, 20k per batch at peak) and whose loss is tolerable.
  // Notifications are sent unawaited and only their failures matter: without a delivery report per
  // delivered message the poll no longer turns each one into a JS object and an event (about 1 µs
  // per notification in a `make bench` profile; librdkafka CONFIGURATION.md: delivery.report.only.error).
  const producer = new KafkaProducer(brokers, `${clientId}-notifications`, { 'delivery.report.only.error': true });
  const deadLetterProducer = new KafkaProducer(brokers, `${clientId}-dead-letters`);
  await Promise.all([producer.connect(), deadLetterProducer.connect()]);

  const shutdown = new AbortController();
  let exiting = false;
  const fatal = (error: unknown): void => {
    if (exiting) return;
    exiting = true;
    // Nothing uncommitted is lost: the database offsets still point before it, so it is redelivered.
    log.fatal({ err: error }, 'processor cannot continue; exiting so it restarts from the stored offsets');
    process.exit(1);
  };
  const databaseAnswers = async (): Promise<boolean> => {
    try {
      await pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  };

  const notifier = new Notifier(producer, config.KAFKA_NOTIFY_TOPIC, metrics);
  await storeThreshold(pool, config.LOW_STOCK_THRESHOLD, notifier, metrics, shutdown.signal);
  const flusher = new Flusher({ writer, producer: deadLetterProducer, deadLetterTopic: config.KAFKA_DLQ_TOPIC, notifier, metrics, shutdown: shutdown.signal, databaseAnswers });
  const runner = new Runner({
    consumer: {
      brokers,
      groupId: config.KAFKA_GROUP_ID,
      topic: config.KAFKA_TOPIC,
      clientId,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      startOffsets: (partitions) =>
        retry(() => readStoredOffsets(pool, config.KAFKA_GROUP_ID, config.KAFKA_TOPIC, partitions), {
          signal: shutdown.signal,
          onRetry: (error, attempt, delayMs) => log.warn({ err: error, attempt, delayMs }, 'reading stored offsets failed; retrying'),
        }),
      onLag: (partition, lag) => metrics.consumerLag.set({ topic: config.KAFKA_TOPIC, partition: String(partition) }, lag),
      onAssignmentChange: (partitions) => {
        metrics.assignedPartitions.set(partitions.length);
        metrics.consumerLag.reset();
      },
      onFatal: fatal,
    },
    maxRecords: config.BATCH_MAX_RECORDS,
    maxWaitMs: config.BATCH_MAX_WAIT_MS,
    flush: (batch, reason) => flusher.flush(batch, reason),
    onFlushFailure: (error) => (error instanceof FlushAbandoned ? log.warn({ err: error }, 'flush abandoned at shutdown') : fatal(error)),
    metrics,
  });
  await runner.connect();
  const health = await startHealthServer(config.PROCESSOR_PORT, metrics.registry, {
    async ready() {
      const checks: Record<string, string> = { group: runner.hasJoined ? 'joined' : 'not joined' };
      try {
        await pool.query('SELECT 1');
        checks.database = 'reachable';
      } catch (error) {
        checks.database = `unreachable: ${(error as Error).message}`;
      }
      const flushing = flusher.health();
      checks.flush = flushing.detail;
      const stopped = runner.stoppedPartitions;
      checks.partitions = stopped.length === 0 ? 'ok' : stopped.map(describeStopped).join('; ');
      return { ready: runner.hasJoined && checks.database === 'reachable' && flushing.ok && stopped.length === 0, checks };
    },
  });
  const metricsTimer = setInterval(() => {
    metrics.inFlightRecords.set(runner.inFlightRecords);
    metrics.stoppedPartitions.set(runner.stoppedPartitions.length);
  }, 1000);
  runner.start();
  log.info(
    { topic: config.KAFKA_TOPIC, groupId: config.KAFKA_GROUP_ID, brokers, database: redactUrl(config.DATABASE_URL), port: config.PROCESSOR_PORT,
      batchMaxRecords: config.BATCH_MAX_RECORDS, batchMaxWaitMs: config.BATCH_MAX_WAIT_MS },
    'processor started',
  );

  const stop = async (signal: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, 'shutting down: stop fetching, flush, commit, leave the group');
    const deadline = setTimeout(() => shutdown.abort(), SHUTDOWN_FLUSH_TIMEOUT_MS);
    await runner.drain();
    clearTimeout(deadline);
    await runner.disconnect();
    clearInterval(metricsTimer);
    await Promise.all([producer.close(), deadLetterProducer.close()]);
    await writer.close();
    await pool.end();
    await new Promise((resolve) => health.close(resolve));
    await mock?.stop();
    log.info('processor stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Why a partition is stopped and the command that resumes it, for /ready. */
function describeStopped(stop: StoppedPartition): string {
  return (
    `partition ${stop.partition} stopped: its stored offset ${stop.position} is past the log end ${stop.logEnd} (topic recreated or broker data lost); ` +
    `check, then reset it: make reset-offsets ARGS="--partition ${stop.partition} --to earliest"`
  );
}

/**
 * Stores LOW_STOCK_THRESHOLD with the data; a new value re-evaluates every status once (logged
 * and counted by the database, announced here like a batch's changes).
 */
async function storeThreshold(pool: pg.Pool, threshold: number, notifier: Notifier, metrics: ProcessorMetrics, signal: AbortSignal): Promise<void> {
  const change = await retry(() => setLowStockThreshold(pool, threshold), {
    signal,
    onRetry: (error, attempt, delayMs) => log.warn({ err: error, attempt, delayMs }, 'storing the low-stock threshold failed; retrying'),
  });
  if (!change.changed) return;
  const status = await readStatusChanges(pool, change.first_status_change_id, change.last_status_change_id);
  log.warn({ previous: change.previous, threshold, statusChanges: change.status_changes }, 'low-stock threshold changed: every status re-evaluated');
  metrics.statusChanges.inc(status.length);
  const stock = status.map(({ warehouseId, productId, quantity, status: current }) => ({ warehouseId, productId, quantity, status: current }));
  await notifier.publish({ stock, status });
}

/**
 * Refuses to start when a configured topic is missing: producing to a missing dead-letter or
 * notification topic waits out librdkafka's message timeout on every attempt and stalls flushing.
 */
async function assertTopicsExist(brokers: string, config: Config): Promise<void> {
  const variables = { KAFKA_TOPIC: config.KAFKA_TOPIC, KAFKA_DLQ_TOPIC: config.KAFKA_DLQ_TOPIC, KAFKA_NOTIFY_TOPIC: config.KAFKA_NOTIFY_TOPIC };
  const missing = new Set(await missingTopics(brokers, Object.values(variables)));
  const named = Object.entries(variables).filter(([, topic]) => missing.has(topic));
  if (named.length > 0) {
    const list = named.map(([name, topic]) => `${topic} (${name})`).join(', ');
    throw new Error(`topic ${list} does not exist in the Kafka cluster at ${brokers}: create it first`);
  }
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, error instanceof Error ? error.message : 'processor failed to start');
  process.exit(1);
});
