import { KAFKA_CLOSE_BUDGET_MS } from '../shutdown-budget.js';
import { asError, baseClientConfig, connectClient, disconnectClient, RdKafka, type KafkaHeaders } from './client.js';

/** Where the broker stored an acknowledged message. */
export interface DeliveredPosition {
  partition: number;
  offset: number;
}

/**
 * A producer with delivery reports as promises and a bounded local queue: `send` waits while
 * librdkafka's queue is full instead of failing, so a fast caller cannot grow memory without bound.
 */
export class KafkaProducer {
  private readonly producer: RdKafka.Producer;
  private readonly pending = new Map<number, { resolve: (position: DeliveredPosition) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private poller: NodeJS.Timeout | undefined;
  private undeliveredListener: ((error: Error) => void) | undefined;
  /** `sendUnawaited` messages the broker acknowledged (counted only when every delivery is reported). */
  unawaitedDelivered = 0;
  /** Set by `delivery.report.only.error`: no report for a delivered message, so `send` could never resolve. */
  private readonly reportsOnlyErrors: boolean;

  /**
   * `extra` may hold topic properties too (message.timeout.ms, ...): librdkafka takes them in the
   * global configuration as the defaults for every topic (CONFIGURATION.md, "Topic configuration").
   */
  constructor(bootstrapServers: string, clientId: string, extra: RdKafka.ProducerGlobalConfig & RdKafka.ProducerTopicConfig = {}) {
    this.reportsOnlyErrors = extra['delivery.report.only.error'] === true;
    this.producer = new RdKafka.Producer({
      ...baseClientConfig(bootstrapServers, clientId),
      dr_cb: true,
      // Batch many small messages per request; 5 ms of linger costs nothing at load and keeps
      // request counts low (librdkafka CONFIGURATION.md: linger.ms, batch.num.messages).
      'linger.ms': 5,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 200_000,
      'compression.type': 'lz4',
      // Keyed messages land where the Java client and KafkaJS put them (murmur2 of the key bytes),
      // so one warehouse's events share a partition whoever produces them; librdkafka's default,
      // consistent_random, hashes with CRC32 (CONFIGURATION.md: partitioner).
      partitioner: 'murmur2_random',
      ...extra,
    });
    this.producer.on('delivery-report', (error, report) => {
      const id: unknown = report.opaque;
      // A fire-and-forget message (`sendUnawaited`) carries no numeric opaque id.
      if (typeof id !== 'number') {
        if (error) this.undeliveredListener?.(asError(error));
        else this.unawaitedDelivered++;
        return;
      }
      const waiter = this.pending.get(id);
      if (!waiter) return;
      this.pending.delete(id);
      if (error) waiter.reject(asError(error));
      else waiter.resolve({ partition: report.partition, offset: report.offset });
    });
  }

  async connect(): Promise<void> {
    await connectClient(this.producer);
    this.poller = setInterval(() => this.producer.poll(), 20);
  }

  /** Messages sent but not yet acknowledged. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Queues one message; resolves once it is in librdkafka's queue. `delivered` resolves when the
   * broker acknowledged it; `position`, at the same moment, with the partition and offset the
   * broker stored it at.
   */
  async send(
    topic: string,
    value: Buffer | null,
    key?: string | Buffer | null,
    headers?: KafkaHeaders,
    partition?: number,
  ): Promise<{ delivered: Promise<void>; position: Promise<DeliveredPosition> }> {
    if (this.reportsOnlyErrors) throw new Error('send() waits for delivery reports; this producer reports only failures (use sendUnawaited)');
    const id = this.nextId++;
    const position = new Promise<DeliveredPosition>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // A caller that awaits only `delivered` sees the failure there, not as an unhandled rejection.
    position.catch(() => undefined);
    try {
      await this.produceWhenRoom(() => {
        this.producer.produce(topic, partition ?? null, value, key ?? null, Date.now(), id, headers);
      });
    } catch (error) {
      this.pending.delete(id);
      throw error;
    }
    return { delivered: position.then(() => undefined), position };
  }

  /**
   * Queues one message without a delivery promise, for high-volume traffic whose loss is
   * tolerable (notifications): a promise and a map entry per message cost more than producing
   * it (`make bench` profile: 2 s of a 10 s processor run at 20k notifications per batch).
   * Failed deliveries go to the `onUndelivered` listener. Returns undefined when the message is
   * queued at once, and only while librdkafka's queue is full a promise that resolves once it is:
   * a caller that awaits only that promise pays no microtask per message. Any other produce error
   * is thrown.
   */
  sendUnawaited(topic: string, value: Buffer, key: string): Promise<void> | undefined {
    // No closure on the common path: under tsx (the benchmarks) each one is also named at creation.
    try {
      this.producer.produce(topic, null, value, key, Date.now());
      return undefined;
    } catch (error) {
      if ((error as { code?: number }).code !== RdKafka.CODES.ERRORS.ERR__QUEUE_FULL) throw error;
      return this.produceWhenRoom(() => {
        this.producer.produce(topic, null, value, key, Date.now());
      });
    }
  }

  /** Runs `produce`, waiting while librdkafka's local queue is full instead of failing. */
  private async produceWhenRoom(produce: () => void): Promise<void> {
    for (;;) {
      try {
        produce();
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== RdKafka.CODES.ERRORS.ERR__QUEUE_FULL) throw error;
        this.producer.poll();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }

  /** Called with the error of every `sendUnawaited` message that was not delivered. */
  onUndelivered(listener: (error: Error) => void): void {
    this.undeliveredListener = listener;
  }

  /** Waits until every queued message is delivered (or `timeoutMs` passes). */
  flush(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      this.producer.flush(timeoutMs, (error) => (error ? reject(asError(error)) : resolve()));
    });
  }

  /** Delivers what is queued (within the shutdown budget, lib/shutdown-budget.ts), then disconnects. */
  async close(): Promise<void> {
    await this.flush(KAFKA_CLOSE_BUDGET_MS.producerFlush).catch(() => undefined);
    if (this.poller) clearInterval(this.poller);
    await disconnectClient(this.producer);
  }
}
