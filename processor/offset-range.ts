import { createLogger } from '../lib/log.js';

const log = createLogger('offset-range');

/**
 * What to do with a partition whose position librdkafka found out of range (its fetch failed with
 * OFFSET_OUT_OF_RANGE and, with `auto.offset.reset=error`, it stopped fetching), given the log's
 * current low and high watermarks:
 *
 * - `skip-to-start`: the position is below the log start: the broker deleted messages before
 *   they were read (retention). Continue from the log start; the batch that follows records the
 *   gap (skipped_offsets, wsm_processor_skipped_offsets_total).
 * - `stop`: the position is past the log end: the topic was recreated or the broker lost its
 *   data, and reading on from an earlier offset would silently treat new messages as already
 *   applied. Stop the partition and fail readiness until an operator resets its stored offset
 *   (`make reset-offsets`).
 * - `retry`: the position is inside the log (it moved while we asked): fetch from it again.
 */
export type OutOfRangeAction = 'skip-to-start' | 'stop' | 'retry';

export function outOfRangeAction(position: number, low: number, high: number): OutOfRangeAction {
  if (position < low) return 'skip-to-start';
  if (position > high) return 'stop';
  return 'retry';
}

/** A partition stopped because its position is past the log end. */
export interface StoppedPartition {
  partition: number;
  /** Where it was to read next (the stored offset). */
  position: number;
  /** The log's end offset when it stopped. */
  logEnd: number;
}

export interface OffsetRangeDeps {
  watermarks(partition: number): Promise<{ lowOffset: number; highOffset: number }>;
  /** Fetches these partitions again from these offsets (a stopped fetch cannot seek: re-assign). */
  restartAt(offsets: ReadonlyMap<number, number>): Promise<void>;
  /** The stored offsets (the database's) of these partitions. */
  storedOffsets(partitions: number[]): Promise<Map<number, number>>;
}

/**
 * The consumer's guard against offsets out of range: decides per partition (see
 * {@link outOfRangeAction}), keeps the stopped ones, and resumes a stopped partition once an
 * operator has reset its stored offset.
 */
export class OffsetRangeWatch {
  private readonly stopped = new Map<number, StoppedPartition>();
  /** One check at a time (the statistics tick and a read error can both start one). */
  private checking = false;

  constructor(private readonly deps: OffsetRangeDeps) {}

  get stoppedPartitions(): readonly StoppedPartition[] {
    return [...this.stopped.values()];
  }

  isStopped(partition: number): boolean {
    return this.stopped.has(partition);
  }

  /** A new assignment starts from the stored offsets again. */
  clear(): void {
    this.stopped.clear();
  }

  /** Checks partitions that may have stopped fetching on an out-of-range position. */
  check(positions: ReadonlyMap<number, number>): void {
    if (this.checking || positions.size === 0) return;
    this.checking = true;
    this.decide(positions)
      .catch((error: unknown) => log.warn({ err: error }, 'checking out-of-range offsets failed; the next statistics tick retries'))
      .finally(() => (this.checking = false));
  }

  /** Resumes stopped partitions (among `owned`) whose stored offset an operator has moved. */
  async resumeReset(owned: readonly number[]): Promise<void> {
    const candidates = [...this.stopped.keys()].filter((partition) => owned.includes(partition));
    if (candidates.length === 0) return;
    const stored = await this.deps.storedOffsets(candidates);
    const restart = new Map<number, number>();
    for (const partition of candidates) {
      const offset = stored.get(partition);
      const stop = this.stopped.get(partition)!;
      if (offset === undefined || offset === stop.position) continue;
      this.stopped.delete(partition);
      restart.set(partition, offset);
      log.warn({ partition, from: stop.position, to: offset }, 'stored offset reset by an operator: partition resumed');
    }
    if (restart.size > 0) await this.deps.restartAt(restart);
  }

  private async decide(positions: ReadonlyMap<number, number>): Promise<void> {
    const restart = new Map<number, number>();
    for (const [partition, position] of positions) {
      if (this.stopped.has(partition)) continue;
      const { lowOffset, highOffset } = await this.deps.watermarks(partition);
      const action = outOfRangeAction(position, lowOffset, highOffset);
      if (action === 'stop') {
        this.stopped.set(partition, { partition, position, logEnd: highOffset });
        log.error({ partition, storedOffset: position, logEnd: highOffset }, 'stored offset is past the log end (topic recreated or broker data lost): partition stopped until its offset is reset');
      } else if (action === 'skip-to-start') {
        log.error({ partition, position, logStart: lowOffset }, 'messages were deleted before they were read: continuing from the log start');
        restart.set(partition, lowOffset);
      } else {
        restart.set(partition, position);
      }
    }
    if (restart.size > 0) await this.deps.restartAt(restart);
  }
}
