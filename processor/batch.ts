import type { DeadLetterReason, MovementEvent } from '../lib/event.js';
import type { KafkaHeaders } from '../lib/kafka/client.js';

/** Where a message came from. */
export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

/** A consumed message that decoded to a valid event. */
export interface EventRecord extends Position {
  kind: 'event';
  event: MovementEvent;
  /** The message key, as bytes. */
  key: Buffer | null;
  /** The raw message, kept until commit in case the database refuses the event and it must be dead-lettered. */
  payload?: Buffer;
  headers?: KafkaHeaders;
}

/** A consumed message that failed validation (or, after bisection, the database's checks). */
export interface DeadLetterRecord extends Position {
  kind: 'dead_letter';
  reason: DeadLetterReason;
  detail: string;
  /** The message key, as bytes. */
  key: Buffer | null;
  payload: Buffer;
  /** The message's headers (values are bytes). */
  headers?: KafkaHeaders;
  /** The payload's original size (it may have been cut). */
  payloadBytes: number;
  /** Reduced to position, reason and sizes after the database refused it whole (processor/flusher.ts). */
  bare?: boolean;
}

export type BatchRecord = EventRecord | DeadLetterRecord;

/** The offset range a batch consumed from one partition: [first, next). */
export interface PartitionRange {
  partition: number;
  first: number;
  next: number;
}

/** Offsets [from, to) of one partition that were never read: the log jumped over them. */
export interface OffsetGap {
  partition: number;
  from: number;
  to: number;
}

/**
 * A batch: records in the order they were read (so in offset order per partition), each
 * partition's offset range, and the gaps inside those ranges. Valid and invalid records both move
 * the offsets.
 */
export class Batch {
  readonly records: BatchRecord[] = [];
  private readonly ranges = new Map<number, PartitionRange>();
  /** Offsets missing between two consecutive records of a partition (apply_batch records them). */
  readonly gaps: OffsetGap[] = [];
  /** Envelope `time` (epoch ms) of each valid event, for end-to-end latency. */
  private readonly producedAtMs: number[] = [];
  readonly startedAtMs = Date.now();

  constructor(readonly topic: string) {}

  /** Builds a batch from records already in read order (used when bisecting). */
  static of(topic: string, records: readonly BatchRecord[]): Batch {
    const batch = new Batch(topic);
    for (const record of records) batch.add(record);
    return batch;
  }

  add(record: BatchRecord): void {
    this.records.push(record);
    const range = this.ranges.get(record.partition);
    if (!range) this.ranges.set(record.partition, { partition: record.partition, first: record.offset, next: record.offset + 1 });
    else {
      if (record.offset > range.next) this.gaps.push({ partition: record.partition, from: range.next, to: record.offset });
      range.next = Math.max(range.next, record.offset + 1);
    }
    if (record.kind === 'event') this.producedAtMs.push(record.event.producedAtMs);
  }

  get size(): number {
    return this.records.length;
  }

  get partitionRanges(): PartitionRange[] {
    return [...this.ranges.values()];
  }

  events(): EventRecord[] {
    return this.records.filter((record): record is EventRecord => record.kind === 'event');
  }

  deadLetters(): DeadLetterRecord[] {
    return this.records.filter((record): record is DeadLetterRecord => record.kind === 'dead_letter');
  }

  /** Envelope times of the valid events, for the end-to-end latency histogram. */
  producedTimes(): readonly number[] {
    return this.producedAtMs;
  }

  /** Two halves in read order; each half's offsets follow from its own records. */
  split(): [Batch, Batch] {
    const middle = Math.ceil(this.records.length / 2);
    return [Batch.of(this.topic, this.records.slice(0, middle)), Batch.of(this.topic, this.records.slice(middle))];
  }

  /** The same records with the one at `index` replaced (a refused event turned dead letter). */
  replacing(index: number, record: BatchRecord): Batch {
    return Batch.of(this.topic, this.records.map((existing, i) => (i === index ? record : existing)));
  }
}
