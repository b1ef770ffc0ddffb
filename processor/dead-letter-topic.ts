import type { KafkaProducer } from '../lib/kafka/producer.js';
import type { DeadLetterRecord } from './batch.js';

/** Headers on every dead-letter message: why it was refused and where it came from. */
export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  detail: 'dlq-detail',
  topic: 'dlq-source-topic',
  partition: 'dlq-source-partition',
  offset: 'dlq-source-offset',
} as const;

/**
 * Publishes dead letters to the dead-letter topic, whole payload and original key, and resolves
 * when the broker has them all. Called before the batch's database commit, so an invalid message
 * is in the topic before its offset moves: never lost (at worst published twice after a crash).
 */
export async function publishDeadLetters(producer: KafkaProducer, topic: string, records: readonly DeadLetterRecord[]): Promise<void> {
  const deliveries: Promise<void>[] = [];
  for (const record of records) {
    const { delivered } = await producer.send(topic, record.payload, record.key, [
      { [DLQ_HEADERS.reason]: record.reason },
      { [DLQ_HEADERS.detail]: record.detail },
      { [DLQ_HEADERS.topic]: record.topic },
      { [DLQ_HEADERS.partition]: String(record.partition) },
      { [DLQ_HEADERS.offset]: String(record.offset) },
      ...(record.headers ?? []),
    ]);
    deliveries.push(delivered);
  }
  await Promise.all(deliveries);
}
