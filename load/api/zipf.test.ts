import { describe, expect, it } from 'vitest';
import { Random } from '../generator/random.js';
import { zipfSampler } from './zipf.js';

describe('zipfSampler', () => {
  it('draws index k with probability proportional to 1/(k+1)^s', () => {
    const draw = zipfSampler(2000, 1, new Random(7));
    const counts = new Map<number, number>();
    const draws = 200_000;
    for (let i = 0; i < draws; i++) {
      const k = draw();
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const harmonic = Array.from({ length: 2000 }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
    // The hottest key: 1/H(2000) = 12.2% of draws; the 10th: 1.2%.
    expect((counts.get(0) ?? 0) / draws).toBeCloseTo(1 / harmonic, 2);
    expect((counts.get(9) ?? 0) / draws).toBeCloseTo(1 / (10 * harmonic), 2);
    const top20 = Array.from({ length: 20 }, (_, k) => counts.get(k) ?? 0).reduce((a, b) => a + b, 0);
    expect(top20 / draws).toBeGreaterThan(0.4);
    expect(Math.max(...counts.keys())).toBeLessThan(2000);
  });

  it('is uniform with s = 0, and the same for the same seed', () => {
    const draw = zipfSampler(4, 0, new Random(1));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[draw()]!++;
    for (const count of counts) expect(count / 40_000).toBeCloseTo(0.25, 1);
    const a = zipfSampler(100, 1.2, new Random('x'));
    const b = zipfSampler(100, 1.2, new Random('x'));
    expect(Array.from({ length: 50 }, a)).toEqual(Array.from({ length: 50 }, b));
  });

  it('refuses a bad size or exponent', () => {
    expect(() => zipfSampler(0, 1, new Random(1))).toThrow(RangeError);
    expect(() => zipfSampler(10, -1, new Random(1))).toThrow(RangeError);
  });
});
