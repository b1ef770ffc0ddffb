/**
 * What the consumer takes from librdkafka's statistics (STATISTICS.md, emitted every
 * statistics.interval.ms): per owned partition, the consumer lag, and whether it stopped
 * fetching (`fetch_state` none: with auto.offset.reset=error, an out-of-range offset).
 */
export interface PartitionStats {
  lag: Map<number, number>;
  notFetching: number[];
}

interface RawStats {
  topics?: Record<string, { partitions?: Record<string, { consumer_lag?: number; fetch_state?: string }> }>;
}

/** Reads `json` for `topic`'s partitions in `owned` (librdkafka also reports partition -1 and others). */
export function partitionStats(json: string, topic: string, owned: readonly number[]): PartitionStats {
  const stats = JSON.parse(json) as RawStats;
  const result: PartitionStats = { lag: new Map(), notFetching: [] };
  for (const [id, partition] of Object.entries(stats.topics?.[topic]?.partitions ?? {})) {
    const number = Number(id);
    if (!owned.includes(number)) continue;
    if (typeof partition.consumer_lag === 'number' && partition.consumer_lag >= 0) result.lag.set(number, partition.consumer_lag);
    if (partition.fetch_state === 'none') result.notFetching.push(number);
  }
  return result;
}
