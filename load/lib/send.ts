import { KafkaProducer } from '../../lib/kafka/producer.js';
import type { PlannedMessage } from '../generator/plan.js';

/**
 * Sends planned messages through the project's producer: at a target rate or as fast as the
 * producer's bounded queue allows, until a count or a duration is reached, with an optional gate
 * that may hold the producer back (the ingest benchmark paces it to the consumer, because the mock
 * cluster keeps only ~100k messages per partition and drops older ones).
 */
export interface SendOptions {
  brokers: string;
  topic: string;
  messages: Iterator<PlannedMessage>;
  /** Stop after this many messages. */
  count?: number;
  /** Stop after this many seconds. */
  durationSec?: number;
  /** Messages per second; 0 or undefined for as fast as possible. */
  rate?: number;
  /** Awaited every `gateEvery` messages with the number sent so far. */
  gate?: (sent: number) => Promise<void>;
  gateEvery?: number;
  /** Called often (cheap) with the counters so far. */
  onProgress?: (stats: SendStats) => void;
  /** Set to stop early (SIGINT). */
  signal?: AbortSignal;
}

export interface SendStats {
  sent: number;
  delivered: number;
  failed: number;
  elapsedMs: number;
  firstError?: string;
}

/** Runs the send loop; resolves when every message is acknowledged or failed. */
export async function sendPlanned(options: SendOptions): Promise<SendStats> {
  if (options.count === undefined && options.durationSec === undefined) throw new Error('sendPlanned needs a count or a duration');
  const producer = new KafkaProducer(options.brokers, 'wsm-load-producer');
  await producer.connect();
  const stats: SendStats = { sent: 0, delivered: 0, failed: 0, elapsedMs: 0 };
  const started = performance.now();
  const gateEvery = options.gateEvery ?? 1000;
  // Messages go out unawaited: a delivery promise per message (and under tsx a named closure for
  // each of its callbacks) was most of this loop's JavaScript in a make bench profile. Deliveries
  // are counted by the producer, failures by its listener.
  producer.onUndelivered((error) => {
    stats.failed++;
    stats.firstError ??= error.message;
  });
  try {
    for (;;) {
      if (options.count !== undefined && stats.sent >= options.count) break;
      const elapsedMs = performance.now() - started;
      if (options.durationSec !== undefined && elapsedMs >= options.durationSec * 1000) break;
      if (options.signal?.aborted) break;
      if (options.rate && stats.sent >= (elapsedMs / 1000) * options.rate) {
        // Ahead of the target rate: sleep until the next message is due (at least 1 ms).
        await sleep(Math.max(1, ((stats.sent + 1) / options.rate) * 1000 - elapsedMs));
        continue;
      }
      if (options.gate && stats.sent % gateEvery === 0) await options.gate(stats.sent);
      const next = options.messages.next();
      if (next.done) break;
      const queued = producer.sendUnawaited(options.topic, next.value.value, next.value.key);
      if (queued) await queued;
      stats.sent++;
      if (stats.sent % 500 === 0) {
        stats.elapsedMs = performance.now() - started;
        stats.delivered = producer.unawaitedDelivered;
        options.onProgress?.(stats);
        // Let delivery reports and timers run between bursts.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await producer.flush(120_000);
    // Delivery callbacks of the last messages arrive through the poller after flush.
    const waitUntil = Date.now() + 30_000;
    while (producer.unawaitedDelivered + stats.failed < stats.sent && Date.now() < waitUntil) await sleep(20);
  } finally {
    stats.delivered = producer.unawaitedDelivered;
    stats.elapsedMs = performance.now() - started;
    await producer.close();
  }
  return stats;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
