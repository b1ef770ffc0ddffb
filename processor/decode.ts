import { decodeMessage } from '../lib/event.js';
import type { KafkaMessage } from '../lib/kafka/client.js';
import type { BatchRecord } from './batch.js';

/** Dead-letter payloads are cut to this many bytes in the table (the DLQ topic gets them whole). */
export const DEAD_LETTER_PAYLOAD_BYTES = 4096;

/** Turns one Kafka message into a batch record: a valid event or a dead letter with its reason. */
export function decodeRecord(message: KafkaMessage): BatchRecord {
  const { topic, partition, offset } = message;
  // Keys and headers stay bytes: any byte sequence is a legal Kafka key (a 0x00 byte included).
  const key = message.key === undefined || message.key === null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(message.key);
  const headers = message.headers && message.headers.length > 0 ? message.headers : undefined;
  const result = decodeMessage(message.value);
  if (result.ok) return { kind: 'event', topic, partition, offset, key, event: result.event, payload: message.value ?? undefined, headers };
  const payload = message.value ?? Buffer.alloc(0);
  return { kind: 'dead_letter', topic, partition, offset, key, headers, reason: result.reason, detail: result.detail, payload, payloadBytes: payload.length };
}
