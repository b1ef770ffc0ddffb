/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../lib/testing/database.js';
import { encodeCursor } from '../cursor.js';
import { startApi, type ApiHarness } from './helpers.js';

/** Every kind of bad input answers a 4xx problem naming what is wrong; nothing leaks internals. */

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

async function expectBadParam(path: string, where: string, name: string, headers?: Record<string, string>) {
  const response = await api.get(path, headers);
  expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBe(400);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body.invalidParams).toContainEqual(expect.objectContaining({ in: where, name }));
  expect(response.body.detail).toContain(name);
  return response;
}

describe('400 problem+json naming the parameter', () => {
  it('refuses a bad UUID in the path', async () => {
    await expectBadParam(`/api/warehouses/not-a-uuid/products/${randomUUID()}`, 'path', 'warehouseId');
    await expectBadParam(`/api/warehouses/${randomUUID()}/products/123`, 'path', 'productId');
    await expectBadParam('/api/movements/abc', 'path', 'movementId');
    await expectBadParam('/api/products/%E2%98%83/warehouses', 'path', 'productId');
  });

  it('refuses a limit out of range or not an integer', async () => {
    for (const limit of ['0', '501', '-1', '2.5', 'ten', '', '1e3']) await expectBadParam(`/api/stock?limit=${limit}`, 'query', 'limit');
    await expectBadParam('/api/events?limit=1&limit=2', 'query', 'limit');
  });

  it('refuses bad cursors, and cursors of another list', async () => {
    await expectBadParam('/api/events?cursor=!!!', 'query', 'cursor');
    await expectBadParam('/api/events?cursor=bm90IGpzb24', 'query', 'cursor');
    await expectBadParam(`/api/events?cursor=${encodeCursor('movements', [randomUUID()])}`, 'query', 'cursor');
    await expectBadParam(`/api/stock?cursor=${encodeCursor('stock', ['x', 'y'])}`, 'query', 'cursor');
    await expectBadParam(`/api/status-changes?cursor=${encodeCursor('status-changes', ['99999999999999999999'])}`, 'query', 'cursor');
  });

  it('refuses unknown filter values and unknown parameters', async () => {
    await expectBadParam('/api/stock?status=plenty', 'query', 'status');
    await expectBadParam('/api/movements?state=lost', 'query', 'state');
    await expectBadParam('/api/events?outcome=maybe', 'query', 'outcome');
    await expectBadParam('/api/events?rejectReason=tired', 'query', 'rejectReason');
    await expectBadParam('/api/dead-letters?reason=bad', 'query', 'reason');
    await expectBadParam('/api/movements?since=yesterday', 'query', 'since');
    await expectBadParam('/api/stock?minQuantity=-3', 'query', 'minQuantity');
    await expectBadParam('/api/stock?status=low&minQuantity=9&maxQuantity=2', 'query', 'minQuantity');
    await expectBadParam(`/api/warehouses/${randomUUID()}/products?minQuantity=x`, 'query', 'minQuantity');
    await expectBadParam(`/api/warehouses/${randomUUID()}/products/${randomUUID()}?asOf=yesterday`, 'query', 'asOf');
    await expectBadParam(`/api/warehouses/${randomUUID()}/products/${randomUUID()}/history?order=sideways`, 'query', 'order');
    await expectBadParam('/api/events?receivedUntil=soon', 'query', 'receivedUntil');
    await expectBadParam('/api/movements?since=2025-02-02T00:00:00Z&until=2025-02-01T00:00:00Z', 'query', 'since');
    await expectBadParam('/api/stock?colour=red', 'query', 'colour');
  });

  it('refuses a bad Last-Event-ID', async () => {
    await expectBadParam('/api/status-changes/stream', 'header', 'Last-Event-ID', { 'Last-Event-ID': 'yesterday' });
    await expectBadParam('/api/status-changes/stream?lastEventId=-1', 'query', 'lastEventId');
  });
});

describe('404, 405 and 413', () => {
  it('answers 404 problem+json for unknown routes', async () => {
    for (const path of ['/', '/api', '/api/nothing', '/api/movements/x/y', '/api/warehouses', '/docs/../etc/passwd']) {
      const response = await api.get(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const response = await api.request('DELETE', '/api/stock');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toContain('GET');
  });

  it('answers 413 for a body over the message size limit (with a valid token)', async () => {
    const writer = await startApi({ writeToken: 'a-test-token-0123456789', database: api.database });
    try {
      const response = await writer.request('POST', '/api/events', {
        body: JSON.stringify({ padding: 'x'.repeat(20_000) }),
        headers: { 'content-type': 'application/json', authorization: 'Bearer a-test-token-0123456789' },
      });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    } finally {
      await writer.close();
    }
  });
});

describe('internals never leak', () => {
  it('answers 500 with no detail, and /ready 503, when the database is gone', async () => {
    const lost = await createTestDatabase('api_lost');
    const broken = await startApi({ database: lost });
    try {
      await lost.drop();
      const response = await broken.get(`/api/movements/${randomUUID()}`);
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
      const ready = await broken.get('/ready');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body)).not.toMatch(/prisma|postgres|does not exist|api_lost/i);
    } finally {
      await broken.close();
    }
  });
});
