import { describe, expect, it } from 'vitest';
import { outOfRangeAction } from './offset-range.js';

describe('outOfRangeAction', () => {
  it('skips to the log start when the position was deleted, stops past the end, retries inside', () => {
    expect(outOfRangeAction(10, 150, 700)).toBe('skip-to-start');
    expect(outOfRangeAction(1000, 0, 12)).toBe('stop');
    expect(outOfRangeAction(12, 0, 12)).toBe('retry');
    expect(outOfRangeAction(150, 150, 700)).toBe('retry');
  });
});
