import { createLogger } from '../lib/log.js';
import { sleep } from './backoff.js';
import type { Batcher } from './batcher.js';
import type { Consumer } from './consumer.js';
import { decodeRecord } from './decode.js';
import type { ProcessorMetrics } from './metrics.js';

const log = createLogger('runner');

/** Most messages taken from librdkafka per read: large enough to amortise the native call. */
const READ_MAX = 5000;

/** How long the batcher may stay full before fetching is paused (the database is not keeping up). */
const PAUSE_AFTER_MS = 1000;

/**
 * The consume loop: read, decode, batch; pause while the batcher is full (one batch flushing and
 * one waiting) and keep polling so the group keeps the assignment. `stop()` ends the loop after
 * the current read.
 */
export class Runner {
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Bumped by a restart from stored offsets; reads begun before it are discarded. */
  private generation = 0;
  private restartRequested = false;
  private fullSinceMs: number | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly batcher: Batcher,
    private readonly metrics: ProcessorMetrics,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** After a fence: drop what is being read and restart every partition from the stored offsets. */
  requestRestart(): void {
    this.restartRequested = true;
    this.generation++;
  }

  /** Ends the loop; resolves when no read is in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (error) {
        // A read error (broker gone, group coordinator moving) is retried by librdkafka itself;
        // wait a little so a persistent one does not spin.
        log.warn({ err: error }, 'read failed');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async step(): Promise<void> {
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
      this.metrics.paused.set(1);
      await this.readInto(1);
      return;
    }
    this.fullSinceMs = undefined;
    if (this.consumer.isPaused) {
      this.consumer.resume();
      this.metrics.paused.set(0);
    }
    await this.readInto(Math.min(READ_MAX, this.batcher.room));
  }

  private async readInto(max: number): Promise<void> {
    const generation = this.generation;
    const messages = await this.consumer.read(Math.max(1, max));
    if (messages.length === 0 || generation !== this.generation) return;
    this.metrics.eventsConsumed.inc(messages.length);
    for (const message of messages) this.batcher.add(decodeRecord(message));
    this.metrics.inFlightRecords.set(this.batcher.inFlightRecords);
  }
}
