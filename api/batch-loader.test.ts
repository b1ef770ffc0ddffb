import { describe, expect, it } from 'vitest';
import { BatchLoader } from './batch-loader.js';

/** A loader over a map, recording each batch it was asked for. */
function recording(values: Record<string, number>, fail?: (keys: string[]) => boolean) {
  const batches: string[][] = [];
  const loader = new BatchLoader<string, number>(
    (keys) => {
      batches.push(keys);
      if (fail?.(keys)) return Promise.reject(new Error('database gone'));
      return Promise.resolve(new Map(keys.filter((k) => k in values).map((k) => [k, values[k]!])));
    },
    (key) => key,
    3,
  );
  return { loader, batches };
}

describe('BatchLoader', () => {
  it('loads every key asked for in one turn of the event loop with one call, each caller getting its own value', async () => {
    const { loader, batches } = recording({ a: 1, b: 2 });
    const answers = await Promise.all([loader.load('a'), loader.load('b'), loader.load('missing')]);
    expect(answers).toEqual([1, 2, undefined]);
    expect(batches).toEqual([['a', 'b', 'missing']]);
  });

  it('loads a key asked for twice in one turn once, and again in a later turn', async () => {
    const { loader, batches } = recording({ a: 1 });
    expect(await Promise.all([loader.load('a'), loader.load('a')])).toEqual([1, 1]);
    expect(await loader.load('a')).toBe(1);
    expect(batches).toEqual([['a'], ['a']]);
  });

  it('splits a turn into slices of at most maxBatch keys', async () => {
    const { loader, batches } = recording({ a: 1, b: 2, c: 3, d: 4 });
    expect(await Promise.all(['a', 'b', 'c', 'd'].map((k) => loader.load(k)))).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('rejects every caller of a failed slice and only those', async () => {
    const { loader } = recording({ a: 1, b: 2, c: 3, d: 4 }, (keys) => keys.includes('d'));
    const answers = await Promise.allSettled(['a', 'b', 'c', 'd', 'd'].map((k) => loader.load(k)));
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
  });
});
