import { describe, expect, it } from 'vitest';
import { OffsetRangeWatch, outOfRangeAction } from './offset-range.js';

describe('outOfRangeAction', () => {
  it('skips to the log start when the position was deleted, stops past the end, retries inside', () => {
    expect(outOfRangeAction(10, 150, 700)).toBe('skip-to-start');
    expect(outOfRangeAction(1000, 0, 12)).toBe('stop');
    expect(outOfRangeAction(12, 0, 12)).toBe('retry');
    expect(outOfRangeAction(150, 150, 700)).toBe('retry');
  });
});

describe('OffsetRangeWatch', () => {
  function watch(logs: Record<number, { lowOffset: number; highOffset: number }>, stored: Map<number, number>) {
    const restarts: Record<number, number>[] = [];
    const ranges = new OffsetRangeWatch({
      watermarks: (partition) => Promise.resolve(logs[partition]!),
      restartAt: (offsets) => {
        restarts.push(Object.fromEntries(offsets));
        return Promise.resolve();
      },
      storedOffsets: () => Promise.resolve(stored),
    });
    return { ranges, restarts };
  }
  const settled = () => new Promise((resolve) => setTimeout(resolve, 10));

  it('restarts a deleted position at the log start and stops one past the log end', async () => {
    const { ranges, restarts } = watch({ 1: { lowOffset: 150, highOffset: 700 }, 2: { lowOffset: 0, highOffset: 5 } }, new Map());
    ranges.check(new Map([[1, 10], [2, 1000]]));
    await settled();
    expect(restarts).toEqual([{ 1: 150 }]);
    expect(ranges.stoppedPartitions).toEqual([{ partition: 2, position: 1000, logEnd: 5 }]);
    expect(ranges.isStopped(2)).toBe(true);
  });

  it('resumes a stopped partition once its stored offset was moved, not before', async () => {
    const stored = new Map([[2, 1000]]);
    const { ranges, restarts } = watch({ 2: { lowOffset: 0, highOffset: 5 } }, stored);
    ranges.check(new Map([[2, 1000]]));
    await settled();
    await ranges.resumeReset([2]);
    expect(restarts).toEqual([]);
    stored.set(2, 0);
    await ranges.resumeReset([2]);
    expect(restarts).toEqual([{ 2: 0 }]);
    expect(ranges.stoppedPartitions).toEqual([]);
  });
});
