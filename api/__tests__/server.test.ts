import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { SseClient } from './sse-client.js';

/** The real process (api/server.ts): refuses a taken port clearly, and stops cleanly on SIGTERM with a stream open. */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('api_server');
});
afterAll(async () => {
  await database?.drop();
});

async function listenAnywhere(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function startServer(port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    env: { ...process.env, DATABASE_URL: database.url, API_PORT: String(port), LOG_LEVEL: 'warn', API_WRITE_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe('api/server.ts', () => {
  it('exits non-zero naming the port when it is taken', async () => {
    const taken = await listenAnywhere();
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const server = startServer(port);
      expect(await server.exited).toBe(1);
      expect(server.stderr()).toContain(`port ${port} is already in use`);
    } finally {
      taken.close();
    }
  });

  it('serves, then on SIGTERM ends open SSE streams and exits 0', async () => {
    const probe = await listenAnywhere();
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const server = startServer(port);
    try {
      let healthy = false;
      for (let i = 0; i < 150 && !healthy; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
        if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(healthy).toBe(true);
      const stream = new SseClient(`http://127.0.0.1:${port}/api/status-changes/stream`);
      await stream.open();
      expect(stream.status).toBe(200);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      await stream.close();
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
