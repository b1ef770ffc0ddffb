import { describe, expect, it } from 'vitest';
import { parsePreloadSizes } from './preload-sizes.js';

describe('parsePreloadSizes', () => {
  it('reads row counts with k and M suffixes, in order', () => {
    expect(parsePreloadSizes('0,5M,20M')).toEqual([0, 5_000_000, 20_000_000]);
    expect(parsePreloadSizes('1500000, 250k,2.5M')).toEqual([1_500_000, 250_000, 2_500_000]);
  });

  it('refuses a missing size, a negative one, a fraction of a row and words', () => {
    expect(() => parsePreloadSizes(undefined)).toThrow('--preload needs a size');
    for (const bad of ['-5', '1.5', '5G', 'many', '5M,,1']) expect(() => parsePreloadSizes(bad)).toThrow('not a row count');
  });
});
