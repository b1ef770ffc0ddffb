import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createLogger } from '../lib/log.js';

const log = createLogger('health');

export interface HealthChecks {
  /** Ready: joined the consumer group and the database answers. */
  ready(): Promise<{ ready: boolean; checks: Record<string, string> }>;
}

/**
 * The processor's HTTP endpoints on PROCESSOR_PORT: `/health` (the process is alive), `/ready`
 * (group joined, database reachable; 503 otherwise), `/metrics` (Prometheus text format). Port 0
 * binds any free port; the bound one is logged in the `httpPort` field, where tests and `make dev`
 * read it (no probe-then-bind race).
 */
export function startHealthServer(port: number, registry: Registry, checks: HealthChecks): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    void handle(request.url ?? '/', registry, checks).then(
      ({ status, type, body }) => {
        response.writeHead(status, { 'content-type': type });
        response.end(body);
      },
      (error: unknown) => {
        log.error({ err: error }, 'health endpoint failed');
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('internal error\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`PROCESSOR_PORT ${port} is already in use`) : error),
    );
    server.listen(port, () => {
      log.info({ httpPort: (server.address() as AddressInfo).port }, 'listening');
      resolve(server);
    });
  });
}

async function handle(url: string, registry: Registry, checks: HealthChecks): Promise<{ status: number; type: string; body: string }> {
  const path = url.split('?')[0];
  if (path === '/health') return json(200, { status: 'ok' });
  if (path === '/ready') {
    const result = await checks.ready();
    return json(result.ready ? 200 : 503, { status: result.ready ? 'ready' : 'not ready', checks: result.checks });
  }
  if (path === '/metrics') return { status: 200, type: registry.contentType, body: await registry.metrics() };
  return json(404, { status: 'not found' });
}

function json(status: number, body: unknown): { status: number; type: string; body: string } {
  return { status, type: 'application/json', body: `${JSON.stringify(body)}\n` };
}
