import { createLogger } from '../lib/log.js';
import { sleep } from './backoff.js';
import type { Batch } from './batch.js';
import { Batcher, type FlushOutcome } from './batcher.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import type { StoppedPartition } from './offset-range.js';
import { decodeRecord } from './decode.js';
import type { FlushReason, ProcessorMetrics } from './metrics.js';

const log = createLogger('runner');

/** Most messages taken from librdkafka per read: large enough to amortise the native call. */
const READ_MAX = 5000;

/** How long the batcher may stay full before fetching is paused (the database is not keeping up). */
const PAUSE_AFTER_MS = 1000;

export interface RunnerOptions {
  /** The consumer's settings; the runner itself answers revokes (flush, then release). */
  consumer: Omit<ConsumerOptions, 'onRevoke'>;
  maxRecords: number;
  maxWaitMs: number;
  /** Writes one batch (processor/flusher.ts); its outcome decides what the runner does next. */
  flush(batch: Batch, reason: FlushReason): Promise<FlushOutcome>;
  /** A flush failed for good (shutdown while retrying, or a bug). */
  onFlushFailure(error: unknown): void;
  metrics: ProcessorMetrics;
}

/**
 * The consume loop and the owner of the consumer and the batcher: read, decode, batch; pause
 * while the batcher is full (one batch flushing and one waiting) and keep polling so the group
 * keeps the assignment. Every flush outcome comes back here: a committed batch's offsets are
 * committed to Kafka (for lag tools; the database holds the real ones), a fenced batch restarts
 * every partition from the stored offsets.
 */
export class Runner {
  private readonly consumer: Consumer;
  private readonly batcher: Batcher;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Bumped by a restart from stored offsets; reads begun before it are discarded. */
  private generation = 0;
  private restartRequested = false;
  private fullSinceMs: number | undefined;

  constructor(private readonly options: RunnerOptions) {
    this.batcher = new Batcher(
      options.consumer.topic,
      options.maxRecords,
      options.maxWaitMs,
      (batch, reason) => this.flush(batch, reason),
      (error) => options.onFlushFailure(error),
      () => this.requestRestart(),
    );
    this.consumer = new Consumer({ ...options.consumer, onRevoke: () => this.batcher.flushNow('revoke') });
  }

  /** Joins the group (the assignment arrives while the loop runs). */
  async connect(): Promise<void> {
    await this.consumer.connect();
  }

  start(): void {
    this.loop = this.run();
  }

  /** True once the group has assigned this instance its partitions (possibly none). */
  get hasJoined(): boolean {
    return this.consumer.hasJoined;
  }

  /** Partitions stopped because their stored offset is past the log end (processor/offset-range.ts). */
  get stoppedPartitions(): readonly StoppedPartition[] {
    return this.consumer.stoppedPartitions;
  }

  /** Records held and not yet committed. */
  get inFlightRecords(): number {
    return this.batcher.inFlightRecords;
  }

  /** Stops fetching, then flushes and commits everything held (shutdown). */
  async drain(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.batcher.flushNow('shutdown');
  }

  /** Leaves the group and closes the consumer. */
  async disconnect(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async flush(batch: Batch, reason: FlushReason): Promise<FlushOutcome> {
    const outcome = await this.options.flush(batch, reason);
    if (outcome === 'committed') this.consumer.commit(batch.partitionRanges);
    return outcome;
  }

  /** After a fence: drop what is being read and restart every partition from the stored offsets. */
  private requestRestart(): void {
    this.restartRequested = true;
    this.generation++;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (error) {
        // A read error (broker gone, group coordinator moving) is retried by librdkafka itself;
        // wait a little so a persistent one does not spin.
        log.warn({ err: error }, 'read failed');
        await sleep(500);
      }
    }
  }

  private async step(): Promise<void> {
    const { metrics } = this.options;
    if (this.restartRequested) {
      this.restartRequested = false;
      this.generation++;
      await this.consumer.restartFromStoredOffsets();
      log.warn({ partitions: this.consumer.assignment }, 'restarted partitions from stored offsets after a fence');
      return;
    }
    if (this.batcher.isFull) {
      this.fullSinceMs ??= Date.now();
      if (Date.now() - this.fullSinceMs < PAUSE_AFTER_MS) {
        // A short wait for the flush slot: librdkafka's bounded prefetch queue absorbs the input.
        // Pausing here would purge that queue and cost a refetch on resume.
        await Promise.race([this.batcher.whenSpace(), sleep(PAUSE_AFTER_MS / 5)]);
        return;
      }
      // The database is slow or gone: pause fetching, and keep polling (rebalances, heartbeats,
      // max.poll.interval.ms) while waiting; paused partitions return nothing.
      this.consumer.pause();
      metrics.paused.set(1);
      await this.readInto(1);
      return;
    }
    this.fullSinceMs = undefined;
    if (this.consumer.isPaused) {
      this.consumer.resume();
      metrics.paused.set(0);
    }
    await this.readInto(Math.min(READ_MAX, this.batcher.room));
  }

  private async readInto(max: number): Promise<void> {
    const generation = this.generation;
    const messages = await this.consumer.read(Math.max(1, max));
    if (messages.length === 0 || generation !== this.generation) return;
    this.options.metrics.eventsConsumed.inc(messages.length);
    for (const message of messages) this.batcher.add(decodeRecord(message));
    this.options.metrics.inFlightRecords.set(this.batcher.inFlightRecords);
  }
}
