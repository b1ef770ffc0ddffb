import { describe, expect, it } from 'vitest';
import { partitionStats } from './consumer-stats.js';

describe('partitionStats', () => {
  it('reads the lag and the stopped fetches of owned partitions only', () => {
    const json = JSON.stringify({
      topics: {
        t: {
          partitions: {
            '-1': { consumer_lag: -1, fetch_state: 'none' },
            '0': { consumer_lag: 12, fetch_state: 'active' },
            '1': { consumer_lag: -1, fetch_state: 'none' },
            '2': { consumer_lag: 5, fetch_state: 'none' },
          },
        },
        other: { partitions: { '0': { consumer_lag: 99, fetch_state: 'none' } } },
      },
    });
    const stats = partitionStats(json, 't', [0, 1]);
    expect(Object.fromEntries(stats.lag)).toEqual({ 0: 12 });
    expect(stats.notFetching).toEqual([1]);
  });
});
