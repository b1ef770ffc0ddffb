import { Batch, type BatchRecord } from './batch.js';
import type { FlushReason } from './metrics.js';

/** `fenced`: a newer owner of a partition moved past the batch (processor/errors.ts). */
export type FlushOutcome = 'committed' | 'fenced';

/**
 * Accumulates records into batches of at most `maxRecords`, or `maxWaitMs` after a batch's first
 * record, whichever comes first, and hands each to `flush`, one flush in flight at a time.
 *
 * States of the batcher:
 * - **empty**: no open batch, no timer.
 * - **filling**: an open batch with records; its timer runs from the first record.
 * - **waiting**: the open batch is sealed (full or timed out) while the previous flush still
 *   runs. `isFull` is true: the runner pauses consumption. At most two batches exist at any
 *   time (one flushing, one waiting), which bounds memory whatever the input rate.
 *
 * `flushNow()` seals the open batch and resolves when every batch is flushed (revoke, shutdown).
 */
export class Batcher {
  private open: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiting: { batch: Batch; reason: FlushReason } | undefined;
  private inFlight: Promise<void> | undefined;
  private spaceWaiters: (() => void)[] = [];

  constructor(
    private readonly topic: string,
    private readonly maxRecords: number,
    private readonly maxWaitMs: number,
    private readonly flush: (batch: Batch, reason: FlushReason) => Promise<FlushOutcome>,
    private readonly onFatal: (error: unknown) => void,
    /** A batch was fenced; everything held after it was discarded and must be read again. */
    private readonly onFenced: () => void,
  ) {}

  /** Records held and not yet committed (open, waiting and flushing batches). */
  private flushingSize = 0;
  get inFlightRecords(): number {
    return (this.open?.size ?? 0) + (this.waiting?.batch.size ?? 0) + this.flushingSize;
  }

  /** True while a sealed batch waits for the flush in flight: stop reading. */
  get isFull(): boolean {
    return this.waiting !== undefined;
  }

  /** How many more records the open batch takes before it seals. */
  get room(): number {
    if (this.isFull) return 0;
    return this.maxRecords - (this.open?.size ?? 0);
  }

  add(record: BatchRecord): void {
    if (!this.open) {
      this.open = new Batch(this.topic);
      this.timer = setTimeout(() => this.seal('time'), this.maxWaitMs);
    }
    this.open.add(record);
    if (this.open.size >= this.maxRecords) this.seal('size');
  }

  /** Resolves when the batcher can take records again (or at once if it can). */
  whenSpace(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Seals the open batch and resolves once everything held has been flushed. */
  async flushNow(reason: FlushReason): Promise<void> {
    this.seal(reason);
    while (this.inFlight || this.waiting) {
      await this.inFlight;
      if (!this.inFlight && this.waiting) this.startNext();
    }
  }

  /**
   * Drops the open and the waiting batch after a fence: they continue from a position that a
   * newer owner has moved past, so committing them would skip the records in between.
   */
  private discardHeld(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.open = undefined;
    this.waiting = undefined;
    this.onFenced();
  }

  private seal(reason: FlushReason): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.open;
    this.open = undefined;
    if (!batch || batch.size === 0) return;
    if (this.waiting) {
      // Only flushNow can seal while a batch waits (add stops at isFull): merge into the waiting one.
      for (const record of batch.records) this.waiting.batch.add(record);
      return;
    }
    this.waiting = { batch, reason };
    if (!this.inFlight) this.startNext();
  }

  private startNext(): void {
    const next = this.waiting;
    if (!next) return;
    this.waiting = undefined;
    this.flushingSize = next.batch.size;
    this.inFlight = this.flush(next.batch, next.reason)
      .then((outcome) => {
        if (outcome === 'fenced') this.discardHeld();
      })
      .catch((error: unknown) => this.onFatal(error))
      .finally(() => {
        this.inFlight = undefined;
        this.flushingSize = 0;
        if (this.waiting) this.startNext();
        const waiters = this.spaceWaiters;
        this.spaceWaiters = [];
        for (const wake of waiters) wake();
      });
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}
