import { RdKafka } from '@confluentinc/kafka-javascript';
import { KAFKA_CLOSE_BUDGET_MS } from '../shutdown-budget.js';

/**
 * The project's one Kafka client library, librdkafka through `@confluentinc/kafka-javascript`
 * (its node-rdkafka API: batch `consume(n)` and a rebalance callback, which the KafkaJS-style API
 * does not expose as directly). Configuration keys: librdkafka's CONFIGURATION.md.
 */
export { RdKafka };
export type KafkaMessage = RdKafka.Message;
export type KafkaHeaders = RdKafka.MessageHeader[];

/** librdkafka's version, e.g. 2.15.1. */
export const librdkafkaVersion = RdKafka.librdkafkaVersion;

/** Settings every client of this project shares. */
export function baseClientConfig(bootstrapServers: string, clientId: string): RdKafka.GlobalConfig {
  return {
    'bootstrap.servers': bootstrapServers,
    'client.id': clientId,
    // The mock cluster and a single-node KRaft broker both live on this host; fail over quickly.
    'reconnect.backoff.max.ms': 2000,
    'socket.keepalive.enable': true,
  };
}

/** Promisified connect for any client (producer or consumer). */
export function connectClient<C extends RdKafka.Producer | RdKafka.KafkaConsumer>(client: C, timeoutMs = 30_000): Promise<RdKafka.Metadata> {
  return new Promise((resolve, reject) => {
    client.connect({ timeout: timeoutMs }, (error, metadata) => (error ? reject(asError(error)) : resolve(metadata)));
  });
}

/**
 * Promisified disconnect; never rejects, since it runs on shutdown paths. Resolves after
 * `timeoutMs` at the latest, even if librdkafka's close still runs (a consumer leaving a group
 * whose broker is gone), so shutdown stays within its budget (lib/shutdown-budget.ts).
 */
export function disconnectClient(client: RdKafka.Producer | RdKafka.KafkaConsumer, timeoutMs?: number): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) return resolve();
    // Producer.disconnect(timeout, cb) flushes first; KafkaConsumer.disconnect takes only a callback.
    const limitMs = timeoutMs ?? (client instanceof RdKafka.Producer ? KAFKA_CLOSE_BUDGET_MS.producerDisconnect : KAFKA_CLOSE_BUDGET_MS.leaveGroup);
    const timer = setTimeout(resolve, limitMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    if (client instanceof RdKafka.Producer) client.disconnect(limitMs, done);
    else client.disconnect(done);
  });
}

/** A librdkafka error object as an Error with its code kept. */
export function asError(error: RdKafka.LibrdKafkaError | Error): Error & { code?: number } {
  if (error instanceof Error) return error;
  return Object.assign(new Error(error.message), { code: error.code, isRetriable: error.isRetriable });
}
