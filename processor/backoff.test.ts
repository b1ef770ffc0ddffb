import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelayMs, retry, RetryAborted } from './backoff.js';

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, scaled by the jitter', () => {
    expect(backoffDelayMs(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelayMs(3, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelayMs(20, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelayMs(3, 100, 10_000, () => 0.5)).toBe(400);
    expect(backoffDelayMs(3, 100, 10_000, () => 0)).toBe(0);
  });
});

describe('retry', () => {
  afterEach(() => vi.useRealTimers());

  it('retries until the action succeeds, waiting the jittered delays', async () => {
    vi.useFakeTimers();
    const delays: number[] = [];
    let calls = 0;
    const result = retry(
      () => (++calls < 4 ? Promise.reject(new Error(`failure ${calls}`)) : Promise.resolve('done')),
      { baseMs: 100, capMs: 250, random: () => 1, onRetry: (_error, _attempt, delay) => delays.push(delay) },
    );
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('done');
    expect(delays).toEqual([100, 200, 250]);
  });

  it('rethrows at once what retryable refuses', async () => {
    let calls = 0;
    const refused = new Error('not worth retrying');
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(refused);
        },
        { retryable: (error) => error !== refused },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });

  it('gives the attempt number to retryable, so a caller can bound attempts', async () => {
    const seen: number[] = [];
    await expect(
      retry(
        () => Promise.reject(new Error('x')),
        { baseMs: 0, retryable: (_error, attempt) => (seen.push(attempt), attempt < 2) },
      ),
    ).rejects.toThrow('x');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('stops waiting when the signal aborts and throws RetryAborted with the last failure', async () => {
    const controller = new AbortController();
    const last = new Error('database gone');
    const result = retry(
      () => Promise.reject(last),
      { signal: controller.signal, baseMs: 60_000, random: () => 1 },
    );
    setTimeout(() => controller.abort(), 10);
    const error: unknown = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryAborted);
    expect((error as Error).cause).toBe(last);
  });
});
