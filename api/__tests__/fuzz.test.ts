import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { encodeCursor } from '../cursor.js';
import { startApi, type ApiHarness } from './helpers.js';

/**
 * A few thousand random requests, built from the real routes with random path segments, query
 * parameters, headers and bodies: none may answer 5xx, and every answer must match the document.
 */

const TOKEN = 'fuzz-token-0123456789abcdef';
let api: ApiHarness;

beforeAll(async () => {
  // No publisher: a POST that gets through validation answers 503, which the property allows
  // explicitly below; everything else must stay under 500.
  api = await startApi({ writeToken: TOKEN });
  await applyEnvelopes(api.database.url, [envelope({ event: 'arrival', quantity: 20 }), envelope({ event: 'arrival', quantity: 3 })]);
});
afterAll(async () => {
  await api?.close();
});

const WEIRD = ['', ' ', '%00', '%ff', '%E2%98%83', '..', '%2e%2e', "'; DROP TABLE stock;--", 'null', '-1', '0', '1e309', 'NaN', '[]', '{}', 'x'.repeat(3000), '00000000-0000-0000-0000-000000000000', 'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ'];
const segment = fc.oneof(fc.uuid().map(String), fc.constantFrom(...WEIRD), fc.string({ maxLength: 40 }).map(encodeURIComponent));
const templates = [
  '/api/warehouses/{a}/products/{b}',
  '/api/warehouses/{a}/products',
  '/api/products/{a}/warehouses',
  '/api/stock',
  '/api/movements/{a}',
  '/api/movements',
  '/api/events',
  '/api/dead-letters',
  '/api/status-changes',
  '/api/stats',
  '/health',
  '/ready',
  '/openapi.json',
  '/{a}/{b}',
  '/api/{a}',
];
const paramNames = ['limit', 'cursor', 'status', 'minQuantity', 'maxQuantity', 'warehouseId', 'productId', 'movementId', 'state', 'since', 'until', 'outcome', 'rejectReason', 'reason', 'topic', 'event', 'x'];
const paramValue = fc.oneof(
  segment,
  fc.integer({ min: -1000, max: 100_000 }).map(String),
  fc.constantFrom('available', 'low', 'out_of_stock', 'in_transit', 'completed', 'applied', 'rejected', 'insufficient_stock', '2025-02-18T14:34:56Z', '2025-13-45T99:99:99Z'),
  fc.constantFrom(encodeCursor('events', ['1']), encodeCursor('stock', [randomUUID(), randomUUID()]), encodeCursor('events', ['-5']), 'WyJldmVudHMiLDFd'),
);
const query = fc.array(fc.tuple(fc.constantFrom(...paramNames), paramValue), { maxLength: 5 });
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.constantFrom('{', '', 'null', '{"data":', JSON.stringify(envelope()), JSON.stringify({ ...envelope().data, quantity: -1 })),
  fc.record({ movement_id: fc.oneof(fc.uuid().map(String), fc.string()), warehouse_id: fc.uuid().map(String), product_id: fc.uuid().map(String), event: fc.constantFrom('arrival', 'departure', 'x'), quantity: fc.oneof(fc.integer(), fc.double()), timestamp: fc.constantFrom('2025-02-18T14:34:56Z', 'x') }).map((v) => JSON.stringify(v)),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  template: fc.constantFrom(...templates, '/api/events'),
  a: segment,
  b: segment,
  query,
  body: jsonBody,
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
  auth: fc.constantFrom(undefined, `Bearer ${TOKEN}`, 'Bearer wrong', 'Basic abc', 'Bearer'),
});

describe('fuzz', () => {
  it('answers no 5xx to 2500 random requests, and every answer matches the document', async () => {
    let served = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const path = r.template.replace('{a}', r.a).replace('{b}', r.b) + (r.query.length ? `?${r.query.map(([k, v]) => `${k}=${v}`).join('&')}` : '');
        const headers: Record<string, string> = { 'content-type': r.contentType };
        if (r.auth) headers.authorization = r.auth;
        const withBody = r.method !== 'GET' && r.method !== 'HEAD' && r.method !== 'OPTIONS';
        let response;
        try {
          response = await api.request(r.method, path, { headers, body: withBody ? r.body : undefined });
        } catch (error) {
          // fetch refuses a few URLs itself before connecting (ERR_INVALID_URL: the server never saw
          // them). Anything else, a dropped connection ('fetch failed') above all, is a failure.
          if (error instanceof TypeError && (error as { code?: string }).code === 'ERR_INVALID_URL') {
            refused++;
            return;
          }
          throw error;
        }
        served++;
        const publishWithoutProducer = r.method === 'POST' && response.status === 503 && path.startsWith('/api/events');
        expect(response.status < 500 || publishWithoutProducer, `${r.method} ${path} -> ${response.status} ${JSON.stringify(response.body)}`).toBe(true);
      }),
      { numRuns: 2500, seed: 20261123 },
    );
    expect(served).toBeGreaterThan(2000);
    expect(served + refused).toBe(2500);
  });
});
