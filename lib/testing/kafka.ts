import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { baseClientConfig, connectClient, disconnectClient, RdKafka, type KafkaMessage } from '../kafka/client.js';
import type { KafkaHeaders } from '../kafka/client.js';
import { KafkaProducer } from '../kafka/producer.js';

/** Kafka helpers for tests, on the real client against the run's mock cluster. */

export function kafkaBrokers(): string {
  return inject('kafkaBrokers');
}

/** A topic name no other test uses (the mock cluster auto-creates it with 4 partitions). */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}.${randomBytes(5).toString('hex')}`;
}

/** Produces `messages` (in order, per key) and waits until all are acknowledged. */
export async function produce(
  topic: string,
  messages: { value: Buffer | null; key?: string | Buffer | null; partition?: number; headers?: KafkaHeaders }[],
): Promise<void> {
  const producer = new KafkaProducer(kafkaBrokers(), 'test-producer');
  await producer.connect();
  try {
    const deliveries: Promise<void>[] = [];
    for (const message of messages) {
      const { delivered } = await producer.send(topic, message.value, message.key, message.headers, message.partition);
      deliveries.push(delivered);
    }
    await producer.flush();
    await Promise.all(deliveries);
  } finally {
    await producer.close();
  }
}

/**
 * Reads from the beginning of `topic` (all partitions) until `count` messages arrived, or until
 * `count` says so when it is a predicate over what was read; fails after `timeoutMs`.
 */
export async function consumeFromStart(topic: string, count: number | ((read: KafkaMessage[]) => boolean), timeoutMs = 20_000): Promise<KafkaMessage[]> {
  const done = typeof count === 'number' ? (read: KafkaMessage[]) => read.length >= count : count;
  const consumer = new RdKafka.KafkaConsumer(
    {
      ...baseClientConfig(kafkaBrokers(), 'test-reader'),
      'group.id': `reader-${randomBytes(4).toString('hex')}`,
      'enable.auto.commit': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectClient(consumer);
  const messages: KafkaMessage[] = [];
  try {
    consumer.subscribe([topic]);
    const deadline = Date.now() + timeoutMs;
    while (!done(messages)) {
      if (Date.now() > deadline) throw new Error(`read ${messages.length} messages from ${topic} in ${timeoutMs} ms, not yet what the test waits for`);
      const batch = await new Promise<KafkaMessage[]>((resolve, reject) =>
        consumer.consume(1000, (error, read) => (error ? reject(new Error(error.message)) : resolve(read))),
      );
      messages.push(...batch);
    }
    return messages;
  } finally {
    await disconnectClient(consumer);
  }
}
