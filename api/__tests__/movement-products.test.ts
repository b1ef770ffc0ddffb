/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { startApi, type ApiHarness } from './helpers.js';

/** A movement whose two sides name different products, and a dead letter with a binary key, through the real HTTP server. */

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

describe('GET /api/movements/{movementId} with two products', () => {
  it('shows both products, flags the mismatch and gives no quantity difference', async () => {
    const [from, to, p1, p2, m] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await applyEnvelopes(api.database.url, [
      envelope({ warehouse_id: from, product_id: p1, quantity: 50 }),
      envelope({ movement_id: m, warehouse_id: from, product_id: p1, event: 'departure', quantity: 10, timestamp: '2025-02-18T10:00:00Z' }),
      envelope({ movement_id: m, warehouse_id: to, product_id: p2, event: 'arrival', quantity: 8, timestamp: '2025-02-18T11:00:00Z' }),
    ]);
    const response = await api.get(`/api/movements/${m}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      productId: p1,
      departureProductId: p1,
      arrivalProductId: p2,
      productMismatch: true,
      state: 'completed',
      quantitySent: 10,
      quantityReceived: 8,
      quantityDifference: null,
      transitSeconds: 3600,
    });
  });

  it('gives an arrival-only movement the arrival\'s product', async () => {
    const [to, p, m] = [randomUUID(), randomUUID(), randomUUID()];
    await applyEnvelopes(api.database.url, [envelope({ movement_id: m, warehouse_id: to, product_id: p, event: 'arrival', quantity: 3 })]);
    expect((await api.get(`/api/movements/${m}`)).body).toMatchObject({ productId: p, departureProductId: null, arrivalProductId: p, productMismatch: false });
  });
});

describe('GET /api/dead-letters', () => {
  it('gives the key bytes and the headers', async () => {
    const key = Buffer.from([0x00, 0xff, 0x41]);
    await api.database.pool.query(
      `INSERT INTO dead_letters (topic, "partition", "offset", message_key, headers, payload, payload_bytes, reason, detail)
       VALUES ('t', 0, 1, $1, $2, 'x', 1, 'malformed_json', 'd')`,
      [key, JSON.stringify([{ key: 'trace', value: Buffer.from([1, 2]).toString('base64') }])],
    );
    const response = await api.get('/api/dead-letters');
    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([
      expect.objectContaining({ messageKeyBase64: key.toString('base64'), headers: [{ key: 'trace', valueBase64: 'AQI=' }] }),
    ]);
  });
});
