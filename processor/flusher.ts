import type { KafkaProducer } from '../lib/kafka/producer.js';
import { createLogger } from '../lib/log.js';
import { backoffDelayMs, sleep } from './backoff.js';
import type { Batch, DeadLetterRecord, EventRecord, PartitionRange } from './batch.js';
import { publishDeadLetters } from './dead-letter-topic.js';
import { classifyFlushError } from './errors.js';
import type { FlushOutcome } from './batcher.js';
import type { FlushReason, ProcessorMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';
import type { BatchWriter, WriteResult } from './writer.js';

const log = createLogger('flusher');

export interface FlusherDeps {
  writer: BatchWriter;
  producer: KafkaProducer;
  deadLetterTopic: string;
  notifier: Notifier;
  metrics: ProcessorMetrics;
  /** Commits Kafka offsets once the database has committed them. */
  commitKafkaOffsets(ranges: readonly PartitionRange[]): void;
  /** Aborted at shutdown: transient retries stop and the batch is left for redelivery. */
  shutdown: AbortSignal;
}

/** Thrown when shutdown interrupts retries: nothing was committed, the records will be redelivered. */
export class FlushAbandoned extends Error {
  override name = 'FlushAbandoned';
}

/**
 * Flushes one batch and recovers from what can go wrong (processor/errors.ts): transient errors
 * are retried with jittered backoff, for as long as it takes (consumption stays paused meanwhile);
 * data errors bisect the batch until the one refused record is dead-lettered; a fenced batch is
 * dropped. Never drops a record otherwise.
 */
export class Flusher {
  constructor(private readonly deps: FlusherDeps) {}

  async flush(batch: Batch, reason: FlushReason): Promise<FlushOutcome> {
    await this.retrying('publish dead letters', () => publishDeadLetters(this.deps.producer, this.deps.deadLetterTopic, batch.deadLetters()));
    const outcome = await this.write(batch);
    if (outcome === 'committed') {
      this.deps.metrics.batches.inc({ reason });
      // The tests read this line to tell a revoke or shutdown flush from a size or time one.
      log.debug({ reason, records: batch.size, ranges: batch.partitionRanges }, 'batch flushed');
    }
    return outcome;
  }

  /** Writes `batch`, bisecting on data errors. */
  private async write(batch: Batch): Promise<FlushOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.deps.writer.write(batch);
        this.onCommitted(batch, result);
        return 'committed';
      } catch (error) {
        const kind = classifyFlushError(error);
        this.deps.metrics.dbErrors.inc({ kind });
        if (kind === 'fenced') {
          log.warn({ records: batch.size, ranges: batch.partitionRanges }, 'batch fenced: a newer owner already applied these offsets; dropped');
          return 'fenced';
        }
        if (kind === 'data' && batch.size > 1) {
          log.warn({ err: error, records: batch.size }, 'database refused the batch; bisecting');
          const [first, second] = batch.split();
          // A fenced first half fences the second too: it starts after records now skipped.
          if ((await this.write(first)) === 'fenced') return 'fenced';
          return this.write(second);
        }
        if (kind === 'data' && batch.records[0]?.kind === 'event') {
          const refused = toDeadLetter(batch.records[0], (error as Error).message);
          log.warn({ err: error, partition: refused.partition, offset: refused.offset }, 'database refused one event; dead-lettering it');
          await this.retrying('publish dead letter', () => publishDeadLetters(this.deps.producer, this.deps.deadLetterTopic, [refused]));
          batch = batch.replacing(0, refused);
          continue;
        }
        if (this.deps.shutdown.aborted) throw new FlushAbandoned('shutdown while the database was unavailable', { cause: error });
        this.deps.metrics.dbRetries.inc();
        const delay = backoffDelayMs(attempt, 200, 10_000);
        log.warn({ err: error, attempt, delayMs: delay, records: batch.size }, 'flush failed; retrying');
        await sleep(delay, this.deps.shutdown);
      }
    }
  }

  private onCommitted(batch: Batch, result: WriteResult): void {
    const { metrics } = this.deps;
    const apply = result.apply;
    this.deps.commitKafkaOffsets(batch.partitionRanges);
    metrics.eventsApplied.inc(apply.applied);
    metrics.eventsRejected.inc({ reason: 'insufficient_stock' }, apply.insufficient_stock);
    metrics.eventsRejected.inc({ reason: 'duplicate_movement_event' }, apply.duplicate_movement_event);
    metrics.eventsRedelivered.inc(apply.staged - apply.fresh);
    metrics.statusChanges.inc(apply.status_changes);
    for (const record of batch.deadLetters()) metrics.deadLetters.inc({ reason: record.reason });
    metrics.batchRecords.observe(batch.size);
    metrics.copyDuration.observe(result.copySeconds);
    metrics.mergeDuration.observe(result.mergeSeconds);
    metrics.flushDuration.observe(result.totalSeconds);
    const now = Date.now();
    for (const producedAt of batch.producedTimes()) metrics.endToEndLatency.observe(Math.max(0, now - producedAt) / 1000);
    log.debug({ records: batch.size, ...apply, seconds: result.totalSeconds }, 'batch committed');
    if (result.changes) this.deps.notifier.publish(result.changes).catch((error: unknown) => log.warn({ err: error }, 'notifications failed'));
  }

  private async retrying(what: string, action: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        if (this.deps.shutdown.aborted) throw new FlushAbandoned(`shutdown while trying to ${what}`, { cause: error });
        const delay = backoffDelayMs(attempt, 200, 10_000);
        log.warn({ err: error, attempt, delayMs: delay }, `${what} failed; retrying`);
        await sleep(delay, this.deps.shutdown);
      }
    }
  }
}

function toDeadLetter(record: EventRecord, detail: string): DeadLetterRecord {
  const payload = record.payload ?? Buffer.from(JSON.stringify(record.event));
  return {
    kind: 'dead_letter',
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    reason: 'rejected_by_database',
    detail: detail.slice(0, 300),
    payload,
    payloadBytes: payload.length,
  };
}
