/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaMessage } from '../../lib/kafka/client.js';
import { brokenMessages, encode, envelope } from '../../lib/testing/envelopes.js';
import { Batch } from '../../processor/batch.js';
import { decodeRecord } from '../../processor/decode.js';
import { BatchWriter } from '../../processor/writer.js';
import { readAllPages, startApi, type ApiHarness } from './helpers.js';

/** GET /api/dead-letters over dead letters the processor's write path stored: every field, each filter, paging. */

let api: ApiHarness;
const broken = new Map(brokenMessages().map((m) => [m.name, m]));
const messages = {
  'topic.a': { partition: 0, values: [encode(envelope()), broken.get('not JSON')!.payload, broken.get('zero quantity')!.payload, encode(envelope()), broken.get('empty')!.payload] },
  'topic.b': { partition: 1, values: [broken.get('bad warehouse id')!.payload, encode(envelope()), broken.get('missing quantity')!.payload] },
};
/** The dead letters, in the order they were written. */
const expected: { topic: string; partition: number; offset: number; reason: string; payloadBase64: string; payloadBytes: number }[] = [];

beforeAll(async () => {
  api = await startApi();
  const writer = new BatchWriter({ databaseUrl: api.database.url, groupId: 'api-dead-letters', collectNotifications: false });
  try {
    for (const [topic, { partition, values }] of Object.entries(messages)) {
      const records = values.map((value, offset) =>
        decodeRecord({ topic, partition, offset, value, key: Buffer.from('key'), size: value.length, timestamp: 0 } satisfies KafkaMessage),
      );
      for (const record of records) {
        if (record.kind === 'dead_letter') {
          expected.push({ topic, partition, offset: record.offset, reason: record.reason, payloadBase64: record.payload.toString('base64'), payloadBytes: record.payload.length });
        }
      }
      await writer.write(Batch.of(topic, records));
    }
  } finally {
    await writer.close();
  }
});
afterAll(async () => {
  await api?.close();
});

const fields = (items: Record<string, unknown>[]) =>
  items.map(({ topic, partition, offset, reason, payloadBase64, payloadBytes }) => ({ topic, partition, offset, reason, payloadBase64, payloadBytes }));

describe('GET /api/dead-letters', () => {
  it('lists every dead letter with its position, reason and payload, in the order stored', async () => {
    expect(expected.map((d) => d.reason)).toEqual(['malformed_json', 'invalid_quantity', 'malformed_json', 'invalid_uuid', 'missing_field']);
    const response = await api.get('/api/dead-letters');
    expect(response.status).toBe(200);
    const items = response.body.items as Record<string, unknown>[];
    expect(fields(items)).toEqual(expected);
    expect(response.body.nextCursor).toBeNull();
    const ids = items.map((item) => item.id as number);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('filters by reason, by topic, and by both', async () => {
    const only = (predicate: (d: (typeof expected)[number]) => boolean) => expected.filter(predicate);
    expect(fields((await readAllPages(api, '/api/dead-letters?reason=malformed_json', 50)).items)).toEqual(only((d) => d.reason === 'malformed_json'));
    expect(fields((await readAllPages(api, '/api/dead-letters?topic=topic.b', 50)).items)).toEqual(only((d) => d.topic === 'topic.b'));
    expect(fields((await readAllPages(api, '/api/dead-letters?topic=topic.a&reason=invalid_quantity', 50)).items)).toEqual(only((d) => d.topic === 'topic.a' && d.reason === 'invalid_quantity'));
    expect((await readAllPages(api, '/api/dead-letters?reason=invalid_timestamp', 50)).items).toEqual([]);
    expect((await readAllPages(api, '/api/dead-letters?topic=topic.c', 50)).items).toEqual([]);
  });

  it('pages through them without gaps or repeats', async () => {
    const { items, pages } = await readAllPages(api, '/api/dead-letters', 2);
    expect(pages).toBe(3);
    expect(fields(items)).toEqual(expected);
    const filtered = await readAllPages(api, '/api/dead-letters?reason=malformed_json', 1);
    expect(filtered.pages).toBe(2);
    expect(fields(filtered.items)).toEqual(expected.filter((d) => d.reason === 'malformed_json'));
  });
});
