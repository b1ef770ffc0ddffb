import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { baseClientConfig, connectClient, disconnectClient, RdKafka, type KafkaMessage } from '../kafka/client.js';
import { ensureMockTopics } from '../kafka/topics.js';
import type { KafkaHeaders } from '../kafka/client.js';
import { KafkaProducer, type DeliveredPosition } from '../kafka/producer.js';

/** Kafka helpers for tests, on the real client against the run's mock cluster. */

export function kafkaBrokers(): string {
  return inject('kafkaBrokers');
}

/** A topic name no other test uses (the mock cluster auto-creates it with 4 partitions). */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}.${randomBytes(5).toString('hex')}`;
}

/** Creates topics in the mock cluster now (4 partitions each), for a consumer that subscribes before anything is produced. */
export function createTopics(...topics: string[]): Promise<void> {
  return ensureMockTopics(kafkaBrokers(), topics);
}

/**
 * Produces `messages` (in order, per key or partition), at most `perSecond` a second when given,
 * and waits until all are acknowledged; resolves with where the broker stored each one, in order.
 */
export async function produce(
  topic: string,
  messages: { value: Buffer | null; key?: string | Buffer | null; partition?: number; headers?: KafkaHeaders }[],
  options: { perSecond?: number } = {},
): Promise<DeliveredPosition[]> {
  const producer = new KafkaProducer(kafkaBrokers(), 'test-producer');
  await producer.connect();
  const started = performance.now();
  try {
    const deliveries: Promise<DeliveredPosition>[] = [];
    for (const [index, message] of messages.entries()) {
      // Paced: never ahead of `perSecond` messages per second since the start.
      if (options.perSecond) {
        const due = started + (index * 1000) / options.perSecond;
        if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      }
      const { position } = await producer.send(topic, message.value, message.key, message.headers, message.partition);
      deliveries.push(position);
    }
    await producer.flush();
    return await Promise.all(deliveries);
  } finally {
    await producer.close();
  }
}

/**
 * The offsets a consumer group committed to Kafka for `partitions` of `topic` (OffsetFetch, without
 * joining the group); a partition with no commit is left out. The processor commits them after
 * the database, for lag tools only: the tests compare them with the database's.
 */
export async function kafkaCommittedOffsets(groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const consumer = new RdKafka.KafkaConsumer({ ...baseClientConfig(kafkaBrokers(), 'test-offsets'), 'group.id': groupId, 'enable.auto.commit': false }, {});
  await connectClient(consumer);
  try {
    const committed = await new Promise<RdKafka.TopicPartitionOffset[]>((resolve, reject) =>
      consumer.committed(
        partitions.map((partition) => ({ topic, partition })),
        10_000,
        (error, result) => (error ? reject(new Error(error.message)) : resolve(result)),
      ),
    );
    return new Map(committed.filter((entry) => entry.offset >= 0).map((entry) => [entry.partition, entry.offset]));
  } finally {
    await disconnectClient(consumer);
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

/** A member of a consumer group that only watches its rebalances (it consumes a topic of its own). */
export interface GroupWatcher {
  /** Assignments and revocations, in order, with when they were seen. */
  readonly events: { kind: 'assign' | 'revoke'; atMs: number }[];
  /** Resolves at the first event of `kind` at index `from` or later; fails after `timeoutMs`. */
  waitFor(kind: 'assign' | 'revoke', from: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Joins `groupId` (eager `range` protocol, like the processor) subscribed to a topic no one else
 * reads, so it owns none of the processors' partitions but takes part in every rebalance of the
 * group: when another member joins, leaves or times out, this one is revoked and assigned again.
 */
export async function watchGroup(groupId: string, sessionTimeoutMs: number): Promise<GroupWatcher> {
  const topic = uniqueTopic('watch');
  await createTopics(topic);
  const events: GroupWatcher['events'] = [];
  const consumer = new RdKafka.KafkaConsumer(
    {
      ...baseClientConfig(kafkaBrokers(), 'test-group-watcher'),
      'group.id': groupId,
      'enable.auto.commit': false,
      'partition.assignment.strategy': 'range',
      'session.timeout.ms': sessionTimeoutMs,
      'heartbeat.interval.ms': Math.min(1000, Math.floor(sessionTimeoutMs / 3)),
      rebalance_cb: (error: RdKafka.LibrdKafkaError, assignment: RdKafka.Assignment[]) => {
        const assign = error.code === RdKafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS;
        events.push({ kind: assign ? 'assign' : 'revoke', atMs: Date.now() });
        if (assign) consumer.assign(assignment);
        else consumer.unassign();
      },
    },
    {},
  );
  await connectClient(consumer);
  consumer.subscribe([topic]);
  let closed = false;
  // Rebalance callbacks are served from consume calls: keep one going.
  const polling = (async () => {
    while (!closed) {
      await new Promise<void>((resolve) => consumer.consume(10, () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    events,
    async waitFor(kind, from, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!events.slice(from).some((event) => event.kind === kind)) {
        if (Date.now() > deadline) throw new Error(`group ${groupId}: no ${kind} within ${timeoutMs} ms (events: ${JSON.stringify(events)})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      closed = true;
      await polling;
      await disconnectClient(consumer);
    },
  };
}
