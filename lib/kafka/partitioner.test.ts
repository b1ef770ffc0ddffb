import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consumeFromStart, kafkaBrokers, uniqueTopic } from '../testing/kafka.js';
import { KafkaProducer } from './producer.js';

// The project's producers put a key where the Java client (and KafkaJS) would: Kafka's default
// partitioner is toPositive(murmur2(key bytes)) % partitions, so one warehouse's events stay in
// one partition, in order, whichever client produced them. librdkafka's own default
// (consistent_random, CRC32) put keys elsewhere.

/** Kafka's Utils.murmur2 (clients/src/main/java/org/apache/kafka/common/utils/Utils.java), written out again here. */
function javaMurmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const r = 24;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // The Java switch falls through from case 3 to case 1.
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's DefaultPartitioner / BuiltInPartitioner for a keyed record. */
function javaPartition(key: Buffer, partitions: number): number {
  return (javaMurmur2(key) & 0x7fffffff) % partitions;
}

describe('the project producer partitioner', () => {
  it('is Kafka\'s murmur2 (the Java client\'s own test vectors)', () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    expect(javaMurmur2(Buffer.from('21'))).toBe(-973932308);
    expect(javaMurmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(javaMurmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(javaMurmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(javaMurmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
  });

  it('puts every key on the partition the Java client would', async () => {
    const topic = uniqueTopic('partitioner');
    const keys = Array.from({ length: 40 }, () => randomUUID());
    const producer = new KafkaProducer(kafkaBrokers(), 'partitioner-test');
    await producer.connect();
    try {
      // Each promise resolves once the broker acknowledged its message.
      await Promise.all(keys.map(async (key) => (await producer.send(topic, Buffer.from(key), key)).delivered));
    } finally {
      await producer.close();
    }
    const read = await consumeFromStart(topic, keys.length);
    // The mock cluster creates topics with 4 partitions (../shared/design.md section 6).
    const placed = Object.fromEntries(read.map((message) => [message.key!.toString(), message.partition]));
    const expected = Object.fromEntries(keys.map((key) => [key, javaPartition(Buffer.from(key), 4)]));
    expect(placed).toEqual(expected);
  });
});
