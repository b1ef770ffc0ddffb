import type pg from 'pg';

/**
 * Stored offsets: where a partition's new owner starts. The database, not Kafka, is the source of
 * truth, because it moves in the same transaction as the data.
 */
export async function readStoredOffsets(
  client: pg.ClientBase | pg.Pool,
  groupId: string,
  topic: string,
  partitions: readonly number[],
): Promise<Map<number, number>> {
  const { rows } = await client.query<{ partition: number; next_offset: string }>(
    `SELECT "partition", next_offset FROM consumer_offsets
      WHERE group_id = $1 AND topic = $2 AND "partition" = ANY($3::int[])`,
    [groupId, topic, partitions],
  );
  return new Map(rows.map((row) => [row.partition, Number(row.next_offset)]));
}
