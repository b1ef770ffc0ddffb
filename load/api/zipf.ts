import type { Random } from '../generator/random.js';

/**
 * A Zipf-distributed index sampler: index k of n (0-based) is drawn with probability proportional
 * to 1 / (k + 1)^s, by binary search in the cumulative distribution (n doubles, log2 n steps per
 * draw). With s = 1 and n = 2000, the hottest key takes about 12% of draws and the hottest 20 keys
 * about 44%: a few products in a few warehouses draw most of the reads, as on a dashboard.
 */
export function zipfSampler(n: number, s: number, random: Random): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipfSampler: n must be a positive integer, got ${n}`);
  if (!(s >= 0)) throw new RangeError(`zipfSampler: s must be at least 0, got ${s}`);
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cumulative[k] = total += 1 / Math.pow(k + 1, s);
  return () => {
    const target = random.next() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle]! > target) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}
