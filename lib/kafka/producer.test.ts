import { describe, expect, it } from 'vitest';
import { consumeFromStart, kafkaBrokers, uniqueTopic } from '../testing/kafka.js';
import { startMockCluster } from './mock-cluster.js';
import { KafkaProducer } from './producer.js';

describe('KafkaProducer.sendUnawaited', () => {
  // The processor's notification producer asks for reports of failures only.
  it.each([false, true])('delivers without a promise per message (delivery.report.only.error %s)', async (onlyErrors) => {
    const producer = new KafkaProducer(kafkaBrokers(), 'test-unawaited', { 'delivery.report.only.error': onlyErrors });
    const undelivered: Error[] = [];
    producer.onUndelivered((error) => undelivered.push(error));
    await producer.connect();
    const topic = uniqueTopic('unawaited');
    try {
      for (let i = 0; i < 50; i++) await producer.sendUnawaited(topic, Buffer.from(`m${i}`), `k${i % 5}`);
      await producer.flush();
      // Acknowledgements are counted when they are reported (the load tools' delivered count).
      const deadline = Date.now() + 10_000;
      while (!onlyErrors && producer.unawaitedDelivered < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(producer.unawaitedDelivered).toBe(onlyErrors ? 0 : 50);
    } finally {
      await producer.close();
    }
    const read = await consumeFromStart(topic, 50);
    expect(read.map((m) => m.value?.toString()).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
    expect(undelivered).toEqual([]);
  });

  it.each([false, true])('reports each message that was not delivered to the listener (delivery.report.only.error %s)', async (onlyErrors) => {
    // A cluster of this test's own, stopped once the producer is connected: the messages can
    // reach no broker and expire after message.timeout.ms, which librdkafka reports as failed.
    const cluster = await startMockCluster();
    const producer = new KafkaProducer(cluster.bootstrapServers, 'test-unawaited-expiring', { 'message.timeout.ms': 500, 'delivery.report.only.error': onlyErrors });
    const undelivered: Error[] = [];
    producer.onUndelivered((error) => undelivered.push(error));
    await producer.connect();
    await cluster.stop();
    try {
      for (let i = 0; i < 3; i++) await producer.sendUnawaited(uniqueTopic('expiring'), Buffer.from('x'), 'k');
      const deadline = Date.now() + 10_000;
      while (undelivered.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await producer.close();
    }
    expect(undelivered).toHaveLength(3);
    expect(undelivered[0]?.message).toMatch(/timed out/i);
  });

  it('refuses send() when only failures are reported (its promise could never resolve)', async () => {
    const producer = new KafkaProducer(kafkaBrokers(), 'test-only-errors', { 'delivery.report.only.error': true });
    await expect(producer.send(uniqueTopic('only-errors'), Buffer.from('x'))).rejects.toThrow(/reports only failures/);
  });
});
