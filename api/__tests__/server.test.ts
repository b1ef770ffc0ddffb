import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, startNodeChild, type TestChild } from '../../lib/testing/child.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { SseClient } from './sse-client.js';

/**
 * The real process (api/server.ts): refuses a bad configuration and a taken port clearly, binds
 * port 0 and reports it, and on SIGTERM ends open SSE streams itself and exits 0.
 */

const EXIT_WAIT_MS = 30_000;
const START_WAIT_MS = 30_000;

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('api_server');
});
afterAll(async () => {
  await database?.drop();
});

function startServer(settings: Record<string, string>): TestChild {
  return startNodeChild('api/server.ts', childEnv({ DATABASE_URL: database.url, API_PORT: '0', LOG_LEVEL: 'info', ...settings }));
}

async function exitCode(server: TestChild): Promise<number | null> {
  const timer = setTimeout(() => void server.stop('SIGKILL'), EXIT_WAIT_MS);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}

describe('api/server.ts', () => {
  it('exits 1 naming each bad variable and its value', async () => {
    const server = startServer({ API_CACHE_TTL_MS: 'soon', API_WRITE_TOKEN: 'short' });
    expect(await exitCode(server)).toBe(1);
    expect(server.output()).toContain('api: invalid configuration');
    expect(server.output()).toContain('API_CACHE_TTL_MS="soon"');
    // A secret's value is never shown, even when it is refused.
    expect(server.output()).toContain('API_WRITE_TOKEN="***": at least 16 characters');
    expect(server.output()).not.toContain('"short"');
  }, EXIT_WAIT_MS + 10_000);

  it('exits 1 naming the port when it is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const server = startServer({ API_PORT: String(port) });
      expect(await exitCode(server)).toBe(1);
      expect(server.output()).toContain(`port ${port} is already in use`);
    } finally {
      taken.close();
    }
  }, EXIT_WAIT_MS + 10_000);

  it('binds port 0 and reports it, then on SIGTERM ends open SSE streams itself and exits 0', async () => {
    const server = startServer({});
    try {
      const port = await server.httpPort(START_WAIT_MS);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const stream = new SseClient(`http://127.0.0.1:${port}/api/status-changes/stream`);
      await stream.open();
      expect(stream.status).toBe(200);
      server.child.kill('SIGTERM');
      // The server ends the stream (the client sees its end), then exits.
      await stream.until(() => stream.endedByServer, 'the server to end the stream', EXIT_WAIT_MS);
      expect(await exitCode(server)).toBe(0);
      await stream.close();
    } finally {
      await server.stop('SIGKILL');
    }
  }, START_WAIT_MS + 3 * EXIT_WAIT_MS);
});
