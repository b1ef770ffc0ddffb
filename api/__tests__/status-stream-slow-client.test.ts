import { once } from 'node:events';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { startApi, type ApiHarness } from './helpers.js';
import { SseClient } from './sse-client.js';

/**
 * README "Read API", live stream: a client more than 4 MiB behind is disconnected and resumes with
 * Last-Event-ID. A client that stops reading gets what was queued for it, then the end of the
 * stream; resuming from the last id it got delivers every later change, with no gap.
 */

/** Status changes per batch: one arrival into a new (warehouse, product) each, ~300 bytes of SSE per change. */
const PER_BATCH = 10_000;
/** 4 MiB over the kernel's socket buffers takes a few batches; more than this means the cap does not work. */
const MAX_BATCHES = 8;
const WAIT_MS = 60_000;

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ heartbeatMs: 600_000 });
});
afterAll(async () => {
  await api?.close();
});

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ids(text: string): number[] {
  return [...text.matchAll(/^id: (\d+)\n/gm)].map((match) => Number(match[1]));
}

describe('GET /api/status-changes/stream with a client that stops reading', () => {
  it('disconnects it once it is more than 4 MiB behind, and a resume from its last id loses nothing', async () => {
    const request = http.get(`${api.baseUrl}/api/status-changes/stream`, { headers: { accept: 'text/event-stream' } });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    expect(response.statusCode).toBe(200);
    response.pause();
    await until(() => api.hub.size === 1, 'the subscription');

    let batches = 0;
    while (api.hub.size === 1) {
      if (++batches > MAX_BATCHES) throw new Error(`still subscribed after ${MAX_BATCHES * PER_BATCH} changes`);
      await applyEnvelopes(api.database.url, Array.from({ length: PER_BATCH }, () => envelope({ warehouse_id: randomUUID(), event: 'arrival', quantity: 50 })));
      // The hub sends a committed batch from its LISTEN notification: wait until it has read the log that far.
      const total = batches * PER_BATCH;
      const sent = async (): Promise<number> => (await api.metrics.sseEventsSent.get()).values[0]?.value ?? 0;
      await until(async () => api.hub.size === 0 || (await sent()) >= total, 'the hub to send the batch');
    }
    expect(api.hub.size).toBe(0);

    // What was queued still arrives, then the end of the stream.
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.resume();
    await once(response, 'end');
    const received = ids(text.slice(0, text.lastIndexOf('\n\n') + 2));
    const total = batches * PER_BATCH;
    // It was cut once more than 4 MiB waited for it in the server, on top of the sockets' buffers.
    expect(Buffer.byteLength(text)).toBeGreaterThan(4 * 1024 * 1024);
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => i + 1));
    expect(received.length).toBeLessThan(total);

    const resumed = new SseClient(`${api.baseUrl}/api/status-changes/stream`, { 'Last-Event-ID': String(received.at(-1)) });
    await resumed.open();
    try {
      await resumed.until(() => resumed.events.length >= total - received.length, 'the rest of the changes', WAIT_MS);
      expect(resumed.ids()).toEqual(Array.from({ length: total - received.length }, (_, i) => received.length + i + 1));
    } finally {
      await resumed.close();
    }
  }, (MAX_BATCHES + 2) * WAIT_MS);
});
