import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Batch, BatchRecord } from './batch.js';
import { Batcher, type FlushOutcome } from './batcher.js';
import type { FlushReason } from './metrics.js';

function record(partition: number, offset: number): BatchRecord {
  return { kind: 'dead_letter', topic: 't', partition, offset, key: null, reason: 'malformed_json', detail: '', payload: Buffer.alloc(0), payloadBytes: 0 };
}

/** A flush whose completion the test controls. */
function controlledFlush() {
  const calls: { batch: Batch; reason: FlushReason; finish: (outcome?: FlushOutcome) => void }[] = [];
  const flush = (batch: Batch, reason: FlushReason): Promise<FlushOutcome> =>
    new Promise((resolve) => calls.push({ batch, reason, finish: (outcome = 'committed') => resolve(outcome) }));
  return { calls, flush };
}

describe('Batcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('flushes at maxRecords with reason size', () => {
    const { calls, flush } = controlledFlush();
    const batcher = new Batcher('t', 3, 1000, flush, () => undefined, () => undefined);
    for (let offset = 0; offset < 3; offset++) batcher.add(record(0, offset));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.reason).toBe('size');
    expect(calls[0]!.batch.partitionRanges).toEqual([{ partition: 0, first: 0, next: 3 }]);
  });

  it('flushes maxWaitMs after the first record with reason time', () => {
    const { calls, flush } = controlledFlush();
    const batcher = new Batcher('t', 100, 200, flush, () => undefined, () => undefined);
    batcher.add(record(0, 0));
    vi.advanceTimersByTime(150);
    batcher.add(record(0, 1));
    expect(calls).toHaveLength(0);
    vi.advanceTimersByTime(50);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.reason).toBe('time');
    expect(calls[0]!.batch.size).toBe(2);
  });

  it('keeps one flush in flight and reports full while the next batch waits', async () => {
    const { calls, flush } = controlledFlush();
    const batcher = new Batcher('t', 2, 1000, flush, () => undefined, () => undefined);
    batcher.add(record(0, 0));
    batcher.add(record(0, 1));
    batcher.add(record(0, 2));
    batcher.add(record(0, 3));
    expect(calls).toHaveLength(1);
    expect(batcher.isFull).toBe(true);
    expect(batcher.room).toBe(0);
    expect(batcher.inFlightRecords).toBe(4);
    calls[0]!.finish();
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(batcher.isFull).toBe(false);
    expect(calls[1]!.batch.partitionRanges).toEqual([{ partition: 0, first: 2, next: 4 }]);
  });

  it('flushNow seals the open batch and resolves when everything is flushed', async () => {
    const { calls, flush } = controlledFlush();
    const batcher = new Batcher('t', 10, 1000, flush, () => undefined, () => undefined);
    batcher.add(record(1, 5));
    let done = false;
    const drained = batcher.flushNow('shutdown').then(() => (done = true));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.reason).toBe('shutdown');
    await Promise.resolve();
    expect(done).toBe(false);
    calls[0]!.finish();
    await drained;
    expect(batcher.inFlightRecords).toBe(0);
  });

  it('discards held batches and asks for a restart when a flush is fenced', async () => {
    const { calls, flush } = controlledFlush();
    const onFenced = vi.fn();
    const batcher = new Batcher('t', 2, 1000, flush, () => undefined, onFenced);
    for (let offset = 0; offset < 4; offset++) batcher.add(record(0, offset));
    batcher.add(record(0, 4));
    calls[0]!.finish('fenced');
    await vi.waitFor(() => expect(onFenced).toHaveBeenCalledOnce());
    expect(calls).toHaveLength(1);
    expect(batcher.inFlightRecords).toBe(0);
  });

  it('reports a flush failure as fatal', async () => {
    const onFatal = vi.fn();
    const batcher = new Batcher('t', 1, 1000, () => Promise.reject(new Error('boom')), onFatal, () => undefined);
    batcher.add(record(0, 0));
    await vi.waitFor(() => expect(onFatal).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' })));
  });
});
