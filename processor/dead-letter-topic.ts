import type { KafkaHeaders } from '../lib/kafka/client.js';
import { RdKafka } from '../lib/kafka/client.js';
import type { KafkaProducer } from '../lib/kafka/producer.js';
import type { DeadLetterRecord } from './batch.js';
import { DEAD_LETTER_PAYLOAD_BYTES } from './decode.js';

/** Headers on every dead-letter message: why it was refused and where it came from. */
export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  detail: 'dlq-detail',
  topic: 'dlq-source-topic',
  partition: 'dlq-source-partition',
  offset: 'dlq-source-offset',
  /** Present when the message was cut to fit: `payload`. */
  truncated: 'dlq-truncated',
  /** The original payload's size in bytes, on a truncated message. */
  originalBytes: 'dlq-original-bytes',
} as const;

/**
 * librdkafka's `message.max.bytes` default (CONFIGURATION.md), the producer's limit on one
 * message with its key and headers; the Kafka broker's default (`message.max.bytes` 1048588) is
 * larger. A dead letter that does not fit is cut (see {@link truncated}).
 */
export const PRODUCER_MAX_MESSAGE_BYTES = 1_000_000;

/**
 * Room kept for what librdkafka adds to a message on the wire (record and batch overhead, about
 * 100 bytes: KIP-98's record format) and for estimating header sizes loosely.
 */
const WIRE_OVERHEAD_BYTES = 1024;

/** librdkafka's error for a message larger than the producer's or the broker's limit. */
const MSG_SIZE_TOO_LARGE = RdKafka.CODES.ERRORS.ERR_MSG_SIZE_TOO_LARGE;

export interface PublishResult {
  /** The records the broker did not acknowledge, to publish again. */
  undelivered: DeadLetterRecord[];
  /** The first failure, when some are undelivered. */
  error?: Error;
}

/**
 * Publishes dead letters to the dead-letter topic, original key and headers, whole payload when
 * it fits, and resolves once the broker has answered for each. Called before the batch's
 * database commit, so an invalid message is in the topic before its offset moves: never lost
 * (at worst published twice after a crash). Returns what is still undelivered, so a retry
 * republishes only that.
 *
 * A message that cannot fit (larger than the producer's limit once the dlq-* headers are added,
 * or refused by the broker as too large) is sent cut: the first 4 KiB of the payload, no original
 * headers, and `dlq-truncated` / `dlq-original-bytes` headers; its source position headers say
 * where to read the original while the source topic retains it.
 */
export async function publishDeadLetters(producer: KafkaProducer, topic: string, records: readonly DeadLetterRecord[]): Promise<PublishResult> {
  const sends = records.map(async (record): Promise<Error | undefined> => {
    let cut = estimatedBytes(record) > PRODUCER_MAX_MESSAGE_BYTES;
    for (;;) {
      try {
        const message = cut ? truncated(record) : whole(record);
        const { delivered } = await producer.send(topic, message.payload, record.key, message.headers);
        await delivered;
        return undefined;
      } catch (error) {
        if (!cut && (error as { code?: number }).code === MSG_SIZE_TOO_LARGE) {
          cut = true;
          continue;
        }
        return error as Error;
      }
    }
  });
  const failures = await Promise.all(sends);
  const undelivered = records.filter((_record, index) => failures[index] !== undefined);
  return { undelivered, error: failures.find((failure) => failure !== undefined) };
}

interface DeadLetterMessage {
  payload: Buffer;
  headers: KafkaHeaders;
}

function dlqHeaders(record: DeadLetterRecord): KafkaHeaders {
  return [
    { [DLQ_HEADERS.reason]: record.reason },
    { [DLQ_HEADERS.detail]: record.detail },
    { [DLQ_HEADERS.topic]: record.topic },
    { [DLQ_HEADERS.partition]: String(record.partition) },
    { [DLQ_HEADERS.offset]: String(record.offset) },
  ];
}

function whole(record: DeadLetterRecord): DeadLetterMessage {
  return { payload: record.payload, headers: [...dlqHeaders(record), ...(record.headers ?? [])] };
}

/** The first 4 KiB of the payload and the dlq-* headers: fits any broker's limit. */
function truncated(record: DeadLetterRecord): DeadLetterMessage {
  return {
    payload: record.payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES),
    headers: [...dlqHeaders(record), { [DLQ_HEADERS.truncated]: 'payload' }, { [DLQ_HEADERS.originalBytes]: String(record.payloadBytes) }],
  };
}

/** The message's size as librdkafka counts it against message.max.bytes, plus a margin. */
function estimatedBytes(record: DeadLetterRecord): number {
  const headers = [...dlqHeaders(record), ...(record.headers ?? [])].flatMap((header) => Object.entries(header));
  const headerBytes = headers.reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value) + 8, 0);
  return record.payload.length + (record.key?.length ?? 0) + headerBytes + WIRE_OVERHEAD_BYTES;
}
