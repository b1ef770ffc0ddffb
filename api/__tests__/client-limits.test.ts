/* eslint-disable @typescript-eslint/no-unsafe-assignment -- expect.stringContaining is typed any */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from './helpers.js';
import { SseClient } from './sse-client.js';

/** What protects the API from its clients: a cap on live streams, and deadlines on idle or slow sockets. */

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({
    maxSubscribers: 2,
    httpLimits: { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 300, socketIdleMs: 5000, checkIntervalMs: 100 },
  });
});
afterAll(async () => {
  await api?.close();
});

/** A raw connection to the API: sends `text`, collects what comes back until the server closes it. */
function rawExchange(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(api.baseUrl).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.write(text);
  });
}

describe('live stream subscribers', () => {
  it('are capped: one more answers 503 problem+json, and a freed place is taken again', async () => {
    const url = `${api.baseUrl}/api/status-changes/stream`;
    const a = new SseClient(url);
    const b = new SseClient(url);
    await a.open();
    await b.open();
    const c = new SseClient(url);
    try {
      expect([a.status, b.status]).toEqual([200, 200]);
      await c.open();
      expect(c.status).toBe(503);
      expect(c.contentType).toContain('application/problem+json');
      expect(JSON.parse(c.body)).toMatchObject({ status: 503, detail: expect.stringContaining('API_SSE_MAX_SUBSCRIBERS') });
      const metrics = (await api.get('/metrics')).body as string;
      expect(metrics).toMatch(/^wsm_api_sse_refused_total\{reason="full",service="api"\} 1$/m);
      await a.close();
      for (let i = 0; i < 200 && api.hub.size !== 1; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      const d = new SseClient(url);
      await d.open();
      expect(d.status).toBe(200);
      await d.close();
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  });
});

describe('sockets', () => {
  it('a client that never finishes its headers gets 408 and is disconnected', async () => {
    const answer = await rawExchange('GET /api/stats HTTP/1.1\r\nHost: test\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('an idle keep-alive connection is closed after its request was answered', async () => {
    const answer = await rawExchange('GET /health HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('{"status":"ok"}');
  });
});
