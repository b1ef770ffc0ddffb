import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ReadCache } from './cache.js';

/** The read cache's staleness bound and coalescing, on a fake clock (no timing). */

function setup(ttlMs: number, maxEntries = 100) {
  const registry = new Registry();
  const cacheRequests = new Counter({ name: 'c', help: 'c', labelNames: ['cache', 'result'] as const, registers: [registry] });
  let now = 1000;
  const cache = new ReadCache<number>('test', ttlMs, { cacheRequests }, maxEntries, () => now);
  const count = async (result: string) => (await registry.getSingleMetric('c')!.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { cache, count, advance: (ms: number) => (now += ms) };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('ReadCache', () => {
  it('serves a hit within the TTL and reloads after it, counted from the start of the load', async () => {
    const { cache, count, advance } = setup(500);
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    expect(await cache.get('k', load)).toBe(1);
    advance(499);
    expect(await cache.get('k', load)).toBe(1);
    advance(1);
    expect(await cache.get('k', load)).toBe(2);
    expect(await count('hit')).toBe(1);
    expect(await count('miss')).toBe(2);
  });

  it('expires by the time the load started, so a slow load does not extend staleness', async () => {
    const { cache, advance } = setup(500);
    const slow = deferred<number>();
    const first = cache.get('k', () => slow.promise);
    advance(400);
    slow.resolve(1);
    expect(await first).toBe(1);
    advance(100); // 500 ms after the load started: stale
    expect(await cache.get('k', () => Promise.resolve(2))).toBe(2);
  });

  it('coalesces concurrent requests for one key into one load', async () => {
    const { cache, count } = setup(500);
    const slow = deferred<number>();
    let loads = 0;
    const load = () => {
      loads++;
      return slow.promise;
    };
    const all = Promise.all(Array.from({ length: 10 }, () => cache.get('hot', load)));
    slow.resolve(7);
    expect(await all).toEqual(Array(10).fill(7));
    expect(loads).toBe(1);
    expect(await count('coalesced')).toBe(9);
  });

  it('does not cache failures, and shares a failure with the coalesced callers', async () => {
    const { cache } = setup(500);
    const failing = deferred<number>();
    const a = cache.get('k', () => failing.promise);
    const b = cache.get('k', () => Promise.resolve(99));
    failing.reject(new Error('db down'));
    await expect(a).rejects.toThrow('db down');
    await expect(b).rejects.toThrow('db down');
    expect(await cache.get('k', () => Promise.resolve(3))).toBe(3);
  });

  it('is off with TTL 0: every request loads', async () => {
    const { cache, count } = setup(0);
    let loads = 0;
    await cache.get('k', () => Promise.resolve(++loads));
    await cache.get('k', () => Promise.resolve(++loads));
    expect(loads).toBe(2);
    expect(await count('miss')).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries keys', async () => {
    const { cache } = setup(500, 3);
    for (const key of ['a', 'b', 'c', 'd']) await cache.get(key, () => Promise.resolve(1));
    expect(cache.size).toBe(3);
  });
});
