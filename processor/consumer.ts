import { createLogger } from '../lib/log.js';
import { asError, baseClientConfig, connectClient, disconnectClient, RdKafka, type KafkaMessage } from '../lib/kafka/client.js';
import type { PartitionRange } from './batch.js';
import { partitionStats } from './consumer-stats.js';
import { OffsetRangeWatch, type StoppedPartition } from './offset-range.js';

const log = createLogger('consumer');

/** librdkafka error codes of the rebalance callback (rdkafka.h: RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS). */
const ASSIGN_PARTITIONS = RdKafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS;
const REVOKE_PARTITIONS = RdKafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS;
/** librdkafka's logical offset for "the oldest message still in the partition" (RD_KAFKA_OFFSET_BEGINNING). */
const OFFSET_BEGINNING = -2;
/** A fetch offset out of range, with auto.offset.reset=error (rdkafka_offset.c rd_kafka_offset_reset). */
const AUTO_OFFSET_RESET = RdKafka.CODES.ERRORS.ERR__AUTO_OFFSET_RESET;
/** Bound on one watermark query or seek. */
const BROKER_REQUEST_TIMEOUT_MS = 5000;

export interface ConsumerOptions {
  brokers: string;
  groupId: string;
  topic: string;
  clientId: string;
  /** librdkafka session.timeout.ms: how long the group waits for a silent member (KAFKA_SESSION_TIMEOUT_MS). */
  sessionTimeoutMs: number;
  /** Where each newly assigned partition starts: the database's stored offsets. */
  startOffsets(partitions: number[]): Promise<Map<number, number>>;
  /** Called when partitions are revoked; the assignment is released when it resolves. */
  onRevoke(partitions: number[]): Promise<void>;
  /** Consumer lag per partition, from librdkafka statistics. */
  onLag(partition: number, lag: number): void;
  onAssignmentChange?(partitions: number[]): void;
  /** The instance can no longer consume safely (see onRebalanceFailure). */
  onFatal(error: unknown): void;
}

/**
 * The librdkafka consumer (and nothing else): group membership, assignment from the database's
 * offsets, batch reads, pause/resume, and offset commits kept in step for lag tools.
 *
 * librdkafka configuration: https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md
 */
export class Consumer {
  private readonly consumer: RdKafka.KafkaConsumer;
  private assigned: number[] = [];
  /**
   * Partitions whose messages `read` hands out. Cleared the moment a revoke is announced, so no
   * record of a partition being released enters a batch after the revoke's flush began.
   */
  private readable = new Set<number>();
  /**
   * Next offset expected per owned partition. A message below it was already handed out in this
   * assignment (librdkafka re-fetched it, e.g. around a pause), and a batch must never hold an
   * offset twice or go backwards: such messages are dropped here.
   */
  private positions = new Map<number, number>();
  private paused = false;
  /** Out-of-range positions: skip to the log start, or stop past the log end (processor/offset-range.ts). */
  private readonly ranges: OffsetRangeWatch;
  /** Serialises rebalance handling: an assign never overtakes the revoke before it. */
  private rebalancing: Promise<void> = Promise.resolve();
  private joined = false;

  constructor(private readonly options: ConsumerOptions) {
    this.ranges = new OffsetRangeWatch({
      watermarks: (partition) => this.watermarks(partition),
      restartAt: (offsets) => this.restartAt(offsets),
      storedOffsets: (partitions) => options.startOffsets(partitions),
    });
    this.consumer = new RdKafka.KafkaConsumer(
      {
        ...baseClientConfig(options.brokers, options.clientId),
        'group.id': options.groupId,
        // Offsets are the database's business; Kafka's are committed by hand after each database commit.
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        // Eager rebalancing: revoke everything, then assign, so a batch never spans two assignments.
        'partition.assignment.strategy': 'range',
        rebalance_cb: (error: RdKafka.LibrdKafkaError, assignment: RdKafka.Assignment[]) => this.onRebalance(error, assignment),
        // Bound librdkafka's prefetch queue (default 64 MiB per partition set): with pauses this
        // bounds the processor's memory whatever the input rate.
        'queued.max.messages.kbytes': 16_384,
        'fetch.max.bytes': 16 * 1024 * 1024,
        // How long a fetch at the log end may wait for data. A Kafka broker answers as soon as data
        // arrives, so this only paces idle fetches (10 a second instead of 2); the librdkafka mock
        // cluster of make dev, the tests and the benchmarks answers an empty fetch only after the
        // whole wait, even when data arrives meanwhile (rdkafka_mock_handlers.c, "delay up to
        // MaxWait"), which at the default 500 ms doubled the freshness `make bench` measures at half
        // load (p50 686-713 -> 339-343 ms, p99 883-1021 -> 439-469 ms, two runs each).
        'fetch.wait.max.ms': 100,
        'statistics.interval.ms': 5000,
        // A flush that waits minutes for a recovering database must not cost the assignment: the
        // runner keeps polling while paused, and this is the upper bound between polls.
        'max.poll.interval.ms': 300_000,
        'session.timeout.ms': options.sessionTimeoutMs,
        // At least three heartbeats per session, as librdkafka's documentation recommends.
        'heartbeat.interval.ms': Math.min(1000, Math.floor(options.sessionTimeoutMs / 3)),
      },
      // An offset out of range stops that partition's fetching and surfaces as an error instead of
      // a silent jump: OffsetRangeWatch decides (processor/offset-range.ts). 'earliest' used to
      // restart a recreated topic from 0 and drop everything up to the old stored offset.
      { 'auto.offset.reset': 'error' },
    );
    this.consumer.setDefaultConsumeTimeout(100);
    // Return as soon as some messages are there instead of waiting the timeout for a full `max`
    // (the method exists in lib/kafka-consumer.js but not in the package's type definitions).
    (this.consumer as RdKafka.KafkaConsumer & { setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.consumer.on('event.stats', (stats: { message: string }) => this.onStats(stats.message));
    this.consumer.on('event.error', (error) => log.warn({ err: asError(error) }, 'kafka client error'));
  }

  async connect(): Promise<void> {
    await connectClient(this.consumer);
    this.consumer.subscribe([this.options.topic]);
    log.info({ topic: this.options.topic, groupId: this.options.groupId }, 'subscribed');
  }

  /** True once the group has assigned this instance its partitions (possibly none). */
  get hasJoined(): boolean {
    return this.joined && this.consumer.isConnected();
  }

  get assignment(): readonly number[] {
    return this.assigned;
  }

  /** Partitions stopped past the log end (readiness fails while there is any). */
  get stoppedPartitions(): readonly StoppedPartition[] {
    return this.ranges.stoppedPartitions;
  }

  /** Reads up to `max` messages of owned partitions, waiting at most ~100 ms for the first. */
  read(max: number): Promise<KafkaMessage[]> {
    return new Promise((resolve, reject) => {
      this.consumer.consume(max, (error, messages) => {
        if (error) {
          if (error.code !== AUTO_OFFSET_RESET) return reject(asError(error));
          // The error does not say which partition; the check asks the broker about each.
          this.ranges.check(this.readablePositions(this.assigned));
          return resolve([]);
        }
        resolve(messages.filter((message) => this.accept(message)));
      });
    });
  }

  private watermarks(partition: number): Promise<RdKafka.WatermarkOffsets> {
    return new Promise((resolve, reject) => {
      this.consumer.queryWatermarkOffsets(this.options.topic, partition, BROKER_REQUEST_TIMEOUT_MS, (error, offsets) =>
        error ? reject(asError(error)) : resolve(offsets),
      );
    });
  }

  /**
   * Fetches these partitions again from these offsets, the others from where they are. librdkafka
   * refuses to seek a partition whose fetch stopped (rd_kafka_toppar_seek: ERR__STATE), and an
   * eager group allows no incremental assign, so the whole assignment is given again; stopped
   * partitions stay out of it.
   */
  private restartAt(offsets: ReadonlyMap<number, number>): Promise<void> {
    const step = this.rebalancing.then(() => {
      for (const [partition, offset] of offsets) this.positions.set(partition, offset);
      const partitions = this.assigned.filter((partition) => !this.ranges.isStopped(partition));
      const assignment = partitions.map((partition) => ({ topic: this.options.topic, partition, offset: this.positions.get(partition) ?? OFFSET_BEGINNING }));
      this.consumer.assign(assignment);
      const toppars = assignment.map(({ topic, partition }) => ({ topic, partition }));
      if (toppars.length > 0) {
        this.consumer.resume(toppars);
        if (this.paused) this.consumer.pause(toppars);
      }
      log.info({ restarted: Object.fromEntries(offsets) }, 'partitions restarted at new offsets');
    });
    this.rebalancing = step.catch(() => undefined);
    return step;
  }

  /** Readable partitions with a known position: those an out-of-range check can decide about. */
  private readablePositions(partitions: readonly number[]): Map<number, number> {
    const positions = new Map<number, number>();
    for (const partition of partitions) {
      const position = this.positions.get(partition);
      if (position !== undefined && this.readable.has(partition) && !this.ranges.isStopped(partition)) positions.set(partition, position);
    }
    return positions;
  }

  private accept(message: KafkaMessage): boolean {
    if (!this.readable.has(message.partition) || this.ranges.isStopped(message.partition)) return false;
    const expected = this.positions.get(message.partition);
    if (expected !== undefined && message.offset < expected) {
      this.rewinds++;
      if (this.rewinds <= 10 || this.rewinds % 1000 === 0) {
        log.warn({ partition: message.partition, offset: message.offset, expected, rewinds: this.rewinds }, 'dropped a message already read in this assignment');
      }
      return false;
    }
    this.positions.set(message.partition, message.offset + 1);
    return true;
  }

  /** Messages dropped because they were already read in this assignment. */
  rewinds = 0;

  /**
   * Restarts every assigned partition from the database's stored offsets, after this instance's
   * batch was fenced: its position is behind what a newer owner committed, and reading on from it
   * would skip records.
   */
  async restartFromStoredOffsets(): Promise<void> {
    const step = this.rebalancing.then(async () => {
      const partitions = this.assigned;
      this.readable.clear();
      this.consumer.unassign();
      await this.assign(partitions);
    });
    this.rebalancing = step.catch(() => undefined);
    await step;
  }

  /** Stops fetching every assigned partition (back-pressure); `read` keeps polling the group. */
  pause(): void {
    if (this.paused || this.assigned.length === 0) return;
    this.consumer.pause(this.toppars());
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    if (this.assigned.length > 0) this.consumer.resume(this.toppars());
    this.paused = false;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Commits Kafka offsets after the database committed them; failures only delay lag tools. */
  commit(ranges: readonly PartitionRange[]): void {
    const owned = ranges.filter((range) => this.assigned.includes(range.partition));
    if (owned.length === 0) return;
    try {
      this.consumer.commit(owned.map((range) => ({ topic: this.options.topic, partition: range.partition, offset: range.next })));
    } catch (error) {
      log.debug({ err: error }, 'kafka offset commit failed; the database holds the offsets');
    }
  }

  async disconnect(): Promise<void> {
    await this.rebalancing;
    await disconnectClient(this.consumer);
  }

  private toppars(): RdKafka.TopicPartition[] {
    return this.assigned.map((partition) => ({ topic: this.options.topic, partition }));
  }

  private onRebalance(error: RdKafka.LibrdKafkaError, assignment: RdKafka.Assignment[]): void {
    const partitions = assignment.map((toppar) => toppar.partition);
    if (error.code === ASSIGN_PARTITIONS) {
      this.rebalancing = this.rebalancing.then(() => this.assign(partitions)).catch((failure: unknown) => this.onRebalanceFailure(failure));
    } else if (error.code === REVOKE_PARTITIONS) {
      this.readable.clear();
      this.rebalancing = this.rebalancing.then(() => this.revoke(partitions)).catch((failure: unknown) => this.onRebalanceFailure(failure));
    } else {
      log.error({ err: asError(error) }, 'rebalance error');
    }
  }

  private async assign(partitions: number[]): Promise<void> {
    // The database is the source of truth for where to start. A partition it has no offset for
    // was never applied, so it starts at the beginning. Leaving the offset unset instead makes
    // librdkafka look up a committed offset and, seen here with 2.15.1, sometimes re-fetch a
    // partition from 0 after already delivering its first messages.
    const stored = partitions.length > 0 ? await this.options.startOffsets(partitions) : new Map<number, number>();
    const offsets = new Map(partitions.map((partition) => [partition, stored.get(partition) ?? OFFSET_BEGINNING]));
    const assignment = partitions.map((partition) => ({ topic: this.options.topic, partition, offset: offsets.get(partition)! }));
    this.consumer.assign(assignment);
    // A pause is a flag on the partition that outlives unassign (librdkafka clears only its own
    // pauses on assign, rdkafka_assignment.c): a partition paused before a fence restart or a
    // rebalance would otherwise stay paused for good while this instance believes it resumed.
    if (assignment.length > 0) this.consumer.resume(assignment.map(({ topic, partition }) => ({ topic, partition })));
    this.assigned = [...partitions].sort((a, b) => a - b);
    this.readable = new Set(partitions);
    this.ranges.clear();
    this.positions = new Map([...offsets].filter(([, offset]) => offset >= 0));
    this.paused = false;
    this.joined = true;
    this.options.onAssignmentChange?.(this.assigned);
    log.info({ partitions: this.assigned, storedOffsets: Object.fromEntries(stored) }, 'partitions assigned');
  }

  private onRebalanceFailure(error: unknown): void {
    // Without its start offsets (database unreachable for the whole retry budget) the instance
    // cannot own partitions safely: leave it to the supervisor to restart it.
    log.fatal({ err: error }, 'rebalance handling failed');
    this.options.onFatal(error);
  }

  private async revoke(partitions: number[]): Promise<void> {
    log.info({ partitions }, 'partitions revoked; flushing before release');
    try {
      await this.options.onRevoke(partitions);
    } finally {
      this.consumer.unassign();
      this.assigned = [];
      this.ranges.clear();
      this.paused = false;
      this.options.onAssignmentChange?.(this.assigned);
    }
  }

  /**
   * librdkafka statistics (STATISTICS.md), every statistics.interval.ms: consumer lag per owned
   * partition; partitions that stopped fetching (`fetch_state` none: an out-of-range offset the
   * read did not report); stopped partitions an operator may have reset.
   */
  private onStats(json: string): void {
    try {
      const stats = partitionStats(json, this.options.topic, this.assigned);
      for (const [partition, lag] of stats.lag) this.options.onLag(partition, lag);
      this.ranges.check(this.readablePositions(stats.notFetching));
      this.ranges.resumeReset(this.assigned).catch((error: unknown) => log.warn({ err: error }, 'checking stopped partitions for a reset failed'));
    } catch (error) {
      log.debug({ err: error }, 'unreadable librdkafka statistics');
    }
  }
}
