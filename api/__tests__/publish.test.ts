/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEnvelope } from '../../lib/event.js';
import { KafkaProducer } from '../../lib/kafka/producer.js';
import { PROCESSOR_SHUTDOWN_BUDGET_MS, totalBudgetMs } from '../../lib/shutdown-budget.js';
import { envelope, movementData } from '../../lib/testing/envelopes.js';
import { consumeFromStart, kafkaBrokers, uniqueTopic } from '../../lib/testing/kafka.js';
import type { Publisher } from '../deps.js';
import { budget, PROCESSOR_START_WAIT_MS, startProcessor, waitFor } from '../../processor/__tests__/helpers.js';
import { startApi, type ApiHarness } from './helpers.js';

/** POST /api/events: refused without the token, validated like the processor, published keyed by warehouse. */

const TOKEN = 'publish-test-token-0123456789';
const topic = uniqueTopic('api-post');
let api: ApiHarness;
let producer: KafkaProducer;

beforeAll(async () => {
  producer = new KafkaProducer(kafkaBrokers(), 'api-test');
  await producer.connect();
  const publisher: Publisher = { publish: async (t, key, value) => (await producer.send(t, value, key)).delivered };
  api = await startApi({ writeToken: TOKEN, publisher, topic });
});
afterAll(async () => {
  await api?.close();
  await producer?.close();
});

const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
  api.request('POST', '/api/events', { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

describe('POST /api/events', () => {
  it('refuses without a token (401), with a wrong one (403), and when writes are off (403)', async () => {
    const missing = await post(envelope(), {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(envelope(), { authorization: 'Bearer not-the-token-at-all' })).status).toBe(403);
    expect((await post(envelope(), { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    const readOnly = await startApi({ database: api.database });
    try {
      const off = await readOnly.request('POST', '/api/events', { body: JSON.stringify(envelope()), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
      expect(off.status).toBe(403);
      expect(off.body.detail).toContain('API_WRITE_TOKEN');
    } finally {
      await readOnly.close();
    }
  });

  it('validates with the processor schema: 400 with the dead-letter reason and the field', async () => {
    const bad = await post({ ...movementData(), quantity: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ reason: 'invalid_quantity' });
    expect(bad.body.detail).toContain('quantity');
    expect((await post({ ...envelope(), id: 'nope' })).body).toMatchObject({ reason: 'invalid_uuid' });
    expect((await post({ ...movementData(), event: 'teleport' })).body).toMatchObject({ reason: 'unknown_event' });
    expect((await post({ ...movementData(), source: 'warehouse 7' })).body).toMatchObject({ reason: 'invalid_field' });
    expect((await post('{"broken": ')).status).toBe(400);
    expect((await post([1, 2])).status).toBe(400);
    // Instants PostgreSQL and a Date cannot both hold (years 1-9999 UTC) are refused, not published.
    for (const timestamp of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59-12:00']) {
      expect((await post({ ...movementData(), timestamp })).body).toMatchObject({ reason: 'invalid_timestamp' });
    }
    expect((await post({ ...envelope(), time: Date.parse('9999-12-31T23:59:59.999Z') + 1 })).body).toMatchObject({ reason: 'invalid_timestamp' });
    const text = await api.request('POST', '/api/events', { body: 'hello', headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` } });
    expect(text.status).toBe(415);
  });

  it('publishes a full envelope and a bare data part, keyed by warehouse, and answers 202 with the id', async () => {
    const full = envelope({ event: 'arrival', quantity: 7 });
    const first = await post(full);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ messageId: full.id });

    const data = movementData({ event: 'departure', quantity: 3 });
    const second = await post({ ...data, source: 'WH-42' });
    expect(second.status).toBe(202);
    const secondId = second.body.messageId as string;
    expect(secondId).not.toBe(full.id);

    const messages = await consumeFromStart(topic, 2);
    const byId = new Map(
      messages.map((m) => {
        const value: unknown = JSON.parse(m.value!.toString());
        const result = validateEnvelope(value);
        expect(result.ok).toBe(true);
        return [(value as { id: string }).id, { value: value as { source: string; data: unknown }, key: m.key?.toString() }];
      }),
    );
    expect(byId.get(full.id)).toEqual({ value: full, key: full.data.warehouse_id });
    const wrapped = byId.get(secondId);
    expect(wrapped?.key).toBe(data.warehouse_id);
    expect(wrapped?.value.source).toBe('WH-42');
    expect(wrapped?.value.data).toEqual(data);
  });

  it('wraps a bare data part with source WH-0 by default', async () => {
    const data = movementData({ movement_id: randomUUID() });
    const response = await post(data);
    expect(response.status).toBe(202);
  });

  it('an event POSTed to the API shows up through the real processor', async () => {
    const processor = await startProcessor({ DATABASE_URL: api.database.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: 'api-post-e2e', BATCH_MAX_WAIT_MS: '50' });
    try {
      const movementId = randomUUID();
      const from = randomUUID();
      const to = randomUUID();
      const productId = randomUUID();
      expect((await post({ ...movementData({ movement_id: randomUUID(), warehouse_id: from, product_id: productId, quantity: 100 }), source: 'WH-1' })).status).toBe(202);
      expect((await post(movementData({ movement_id: movementId, warehouse_id: from, product_id: productId, event: 'departure', quantity: 100, timestamp: '2025-02-18T10:00:00Z' }))).status).toBe(202);
      expect((await post(movementData({ movement_id: movementId, warehouse_id: to, product_id: productId, event: 'arrival', quantity: 95, timestamp: '2025-02-18T12:00:00Z' }))).status).toBe(202);
      await waitFor(async () => (await api.get(`/api/movements/${movementId}`)).body.state === 'completed', 30_000, () => processor.output().slice(-2000));
      const movement: unknown = (await api.get(`/api/movements/${movementId}`)).body;
      expect(movement).toMatchObject({ quantitySent: 100, quantityReceived: 95, quantityDifference: 5, transitSeconds: 7200 });
      const stock: unknown = (await api.get(`/api/warehouses/${to}/products/${productId}`)).body;
      expect(stock).toMatchObject({ quantity: 95, status: 'available' });
    } finally {
      expect(await processor.stop('SIGTERM')).toBe(0);
    }
  }, budget([PROCESSOR_START_WAIT_MS, 30_000, totalBudgetMs(PROCESSOR_SHUTDOWN_BUDGET_MS)]));
});
