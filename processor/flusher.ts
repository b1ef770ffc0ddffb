import type { KafkaProducer } from '../lib/kafka/producer.js';
import { createLogger } from '../lib/log.js';
import { retry, RetryAborted } from './backoff.js';
import type { Batch, BatchRecord, DeadLetterRecord } from './batch.js';
import type { FlushOutcome } from './batcher.js';
import { publishDeadLetters } from './dead-letter-topic.js';
import { classifyFlushError, mayBeTheRecords } from './errors.js';
import type { FlushReason, ProcessorMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';
import type { BatchWriter, WriteResult } from './writer.js';

const log = createLogger('flusher');

/**
 * Transient failures of one batch in a row, while the database answers other queries, after which
 * the batch itself is suspected (a record that crashes the backend or times out every time) and
 * bisected like a refused one. At the flush's 200 ms-to-10 s backoff that is about 10 s of
 * retries: a restart or a failover ends sooner, and while the database does not answer at all
 * nothing is suspected.
 */
export const SUSPECT_AFTER_ATTEMPTS = 6;

export interface FlusherDeps {
  writer: BatchWriter;
  producer: KafkaProducer;
  deadLetterTopic: string;
  notifier: Notifier;
  metrics: ProcessorMetrics;
  /** Aborted at shutdown: retries stop and the batch is left for redelivery. */
  shutdown: AbortSignal;
  /** Whether the database answers a trivial query on another connection (the readiness probe). */
  databaseAnswers(): Promise<boolean>;
}

/** Thrown when shutdown interrupts retries: nothing was committed, the records will be redelivered. */
export class FlushAbandoned extends Error {
  override name = 'FlushAbandoned';
}

/** Result of one write with its transient failures retried. */
type Attempt = { kind: 'committed' } | { kind: 'fenced' } | { kind: 'refused'; error: unknown };

/**
 * Flushes one batch and recovers from what can go wrong (processor/errors.ts), in named steps:
 *
 * 1. {@link Flusher.writeRetryingTransient}: transient errors are retried with jittered backoff
 *    while consumption stays paused; a fenced batch is dropped.
 * 2. {@link Flusher.bisect}: a batch the database refuses (or that keeps failing while the
 *    database answers) is split in halves until the one record behind it is alone.
 * 3. {@link Flusher.deadLetterRefused}: that record becomes a dead letter (reason
 *    `rejected_by_database`); a dead letter the database refuses is stored bare (position, reason
 *    and sizes only). So every record that fails on its own ends in the dead-letter table within
 *    a bounded number of attempts, and never stops its partition.
 *
 * Never drops a record otherwise. While a flush fails, {@link Flusher.health} says why (readiness).
 */
export class Flusher {
  /** Set while the current flush is failing: since when and the last error. */
  private failing: { sinceMs: number; error: string } | undefined;

  constructor(private readonly deps: FlusherDeps) {}

  /** `ok`, or why flushing is stuck (for /ready). */
  health(): { ok: boolean; detail: string } {
    if (!this.failing) return { ok: true, detail: 'ok' };
    const seconds = Math.round((Date.now() - this.failing.sinceMs) / 1000);
    return { ok: false, detail: `failing for ${seconds} s: ${this.failing.error}` };
  }

  async flush(batch: Batch, reason: FlushReason): Promise<FlushOutcome> {
    await this.publish(batch.deadLetters());
    const outcome = await this.write(batch);
    this.failing = undefined;
    if (outcome === 'committed') {
      this.deps.metrics.batches.inc({ reason });
      // The tests read this line to tell a revoke or shutdown flush from a size or time one.
      log.debug({ reason, records: batch.size, ranges: batch.partitionRanges }, 'batch flushed');
    }
    return outcome;
  }

  /** Writes `batch`: retries transient failures, bisects refused batches, dead-letters the refused record. */
  private async write(batch: Batch, bare = false): Promise<FlushOutcome> {
    const attempt = await this.writeRetryingTransient(batch, bare);
    if (attempt.kind !== 'refused') return attempt.kind;
    if (batch.size > 1) return this.bisect(batch, attempt.error);
    const record = batch.records[0]!;
    const replacement = await this.deadLetterRefused(record, attempt.error);
    return this.write(batch.replacing(0, replacement), replacement.bare === true);
  }

  /**
   * One write, retried while it fails transiently. `allTransient`: every failure is retried (the
   * batch is one bare dead letter, which no record content can make the database refuse).
   */
  private async writeRetryingTransient(batch: Batch, allTransient: boolean): Promise<Attempt> {
    const { metrics, shutdown } = this.deps;
    let suspected = false;
    try {
      const result = await retry(() => this.deps.writer.write(batch), {
        signal: shutdown,
        retryable: async (error, attempt) => {
          const kind = classifyFlushError(error);
          metrics.dbErrors.inc({ kind });
          this.failing ??= { sinceMs: Date.now(), error: '' };
          this.failing.error = `${kind}: ${(error as Error).message}`;
          if (kind === 'fenced') return false;
          if (kind === 'data' && !allTransient) return false;
          if (!allTransient && attempt + 1 >= SUSPECT_AFTER_ATTEMPTS && mayBeTheRecords(error) && (await this.deps.databaseAnswers())) {
            suspected = true;
            return false;
          }
          return true;
        },
        onRetry: (error, attempt, delayMs) => {
          metrics.dbRetries.inc();
          log.warn({ err: error, attempt, delayMs, records: batch.size }, 'flush failed; retrying');
        },
      });
      this.onCommitted(batch, result);
      return { kind: 'committed' };
    } catch (error) {
      if (error instanceof RetryAborted) throw new FlushAbandoned('shutdown while the database was unavailable', { cause: error.cause });
      const kind = classifyFlushError(error);
      if (kind === 'fenced') {
        log.warn({ records: batch.size, ranges: batch.partitionRanges }, 'batch fenced: a newer owner already applied these offsets; dropped');
        return { kind: 'fenced' };
      }
      if (suspected) log.warn({ err: error, records: batch.size, attempts: SUSPECT_AFTER_ATTEMPTS }, 'batch keeps failing while the database answers: treating it as refused');
      return { kind: 'refused', error };
    }
  }

  /** Writes each half in turn. A fenced first half fences the second too: it starts after records now skipped. */
  private async bisect(batch: Batch, error: unknown): Promise<FlushOutcome> {
    log.warn({ err: error, records: batch.size }, 'database refused the batch; bisecting');
    const [first, second] = batch.split();
    if ((await this.write(first)) === 'fenced') return 'fenced';
    return this.write(second);
  }

  /**
   * The dead letter that replaces a record the database refused alone: an event becomes a dead
   * letter with reason `rejected_by_database` (published to the dead-letter topic first); a
   * refused dead letter is stored bare.
   */
  private async deadLetterRefused(record: BatchRecord, error: unknown): Promise<DeadLetterRecord> {
    const message = (error as Error).message ?? String(error);
    if (record.kind === 'dead_letter') {
      log.warn({ err: error, partition: record.partition, offset: record.offset }, 'database refused a dead letter; storing it bare');
      return bareDeadLetter(record, message);
    }
    log.warn({ err: error, partition: record.partition, offset: record.offset }, 'database refused one event; dead-lettering it');
    const payload = record.payload ?? Buffer.from(JSON.stringify(record.event));
    const refused: DeadLetterRecord = {
      kind: 'dead_letter',
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key,
      reason: 'rejected_by_database',
      detail: message.slice(0, 300),
      payload,
      payloadBytes: payload.length,
    };
    await this.publish([refused]);
    return refused;
  }

  /**
   * Publishes dead letters to the dead-letter topic, retrying until the broker has them all; a
   * retry republishes only what the broker has not acknowledged.
   */
  private async publish(records: readonly DeadLetterRecord[]): Promise<void> {
    let pending = records;
    if (pending.length === 0) return;
    try {
      await retry(
        async () => {
          const result = await publishDeadLetters(this.deps.producer, this.deps.deadLetterTopic, pending);
          pending = result.undelivered;
          if (result.error) throw result.error;
        },
        {
          signal: this.deps.shutdown,
          onRetry: (error, attempt, delayMs) => {
            this.failing ??= { sinceMs: Date.now(), error: '' };
            this.failing.error = `dead-letter topic: ${(error as Error).message}`;
            log.warn({ err: error, attempt, delayMs, records: pending.length }, 'publishing dead letters failed; retrying');
          },
        },
      );
    } catch (error) {
      if (error instanceof RetryAborted) throw new FlushAbandoned('shutdown while publishing dead letters', { cause: error.cause });
      throw error;
    }
  }

  private onCommitted(batch: Batch, result: WriteResult): void {
    const { metrics } = this.deps;
    const apply = result.apply;
    metrics.eventsApplied.inc(apply.applied);
    metrics.eventsRejected.inc({ reason: 'insufficient_stock' }, apply.insufficient_stock);
    metrics.eventsRejected.inc({ reason: 'duplicate_movement_event' }, apply.duplicate_movement_event);
    metrics.eventsRedelivered.inc(apply.staged - apply.fresh);
    metrics.eventsConflicting.inc(apply.conflicting);
    if (apply.skipped_offsets > 0) {
      metrics.skippedOffsets.inc(apply.skipped_offsets);
      log.error({ skippedOffsets: apply.skipped_offsets, ranges: batch.partitionRanges }, 'offsets were skipped: messages deleted before they were read (see skipped_offsets)');
    }
    if (apply.conflicting > 0) log.warn({ conflicting: apply.conflicting }, 'message ids reused with different content: the first occurrence wins, the copies were ignored');
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
}

/** A dead letter reduced to what no content can make the database refuse: position, reason, sizes. */
function bareDeadLetter(record: DeadLetterRecord, refusal: string): DeadLetterRecord {
  return {
    ...record,
    key: null,
    payload: Buffer.alloc(0),
    detail: `${record.detail.slice(0, 200)} (stored without key and payload: ${refusal.slice(0, 200)})`.replace(/[^\x20-\x7e]/g, '?'),
    bare: true,
  };
}
