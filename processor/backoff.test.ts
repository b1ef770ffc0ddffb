import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, scaled by the jitter', () => {
    expect(backoffDelayMs(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelayMs(3, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelayMs(20, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelayMs(3, 100, 10_000, () => 0.5)).toBe(400);
    expect(backoffDelayMs(3, 100, 10_000, () => 0)).toBe(0);
  });
});
