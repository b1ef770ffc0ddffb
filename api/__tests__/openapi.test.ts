/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../openapi/document.js';
import { startApi, type ApiHarness } from './helpers.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe('OpenAPI document', () => {
  it('is served at /openapi.json and validates as OpenAPI 3.1', async () => {
    const response = await api.get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const result = await new Validator().validate(response.body as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every served route, and serves every documented one', async () => {
    const served = new Set<string>();
    for (const { router } of api.app.routers) {
      for (const layer of router.stack) {
        for (const method of layer.methods) if (method !== 'HEAD') served.add(`${method.toLowerCase()} ${openApiPath(layer.path as string)}`);
      }
    }
    const documented = new Set<string>();
    const paths = (await api.get('/openapi.json')).body.paths as Record<string, Record<string, unknown>>;
    for (const [path, item] of Object.entries(paths)) for (const method of Object.keys(item)) documented.add(`${method} ${path}`);
    expect([...served].sort()).toEqual([...documented].sort());
    expect(served.size).toBeGreaterThanOrEqual(17);
  });

  it('states the single-stock choice for never-seen pairs and the cache bound', async () => {
    const doc = (await api.get('/openapi.json')).body;
    const getStock = doc.paths['/api/warehouses/{warehouseId}/products/{productId}'].get;
    expect(getStock.description).toMatch(/quantity 0/);
    expect(getStock.description).toMatch(/API_CACHE_TTL_MS/);
    expect(doc.info.description).toMatch(/API_CACHE_TTL_MS/);
  });

  it('serves interactive docs from this origin only', async () => {
    const response = await api.get('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = response.body as string;
    expect(html).toContain("fetch('/openapi.json')");
    // No external asset: every src/href is relative, and the CSP forbids other origins.
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
  });
});

describe('system routes', () => {
  it('/health and /ready answer', async () => {
    expect((await api.get('/health')).body).toEqual({ status: 'ok' });
    expect((await api.get('/ready')).body).toEqual({ status: 'ready', database: 'ok', liveStream: 'ok' });
  });

  it('/metrics exposes the contract metric names with route templates', async () => {
    await api.get('/api/movements/00000000-0000-0000-0000-000000000001');
    await api.get('/no/such/route');
    const text = (await api.get('/metrics')).body as string;
    for (const name of [
      'wsm_api_http_requests_total',
      'wsm_api_http_request_duration_seconds_bucket',
      'wsm_api_prisma_query_duration_seconds_bucket',
      'wsm_api_cache_requests_total',
      'wsm_api_sse_subscribers',
      'wsm_api_sse_events_sent_total',
      'process_cpu_seconds_total',
    ]) {
      expect(text, name).toContain(name);
    }
    const series = (name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`));
    expect(series('wsm_api_http_requests_total')).toContainEqual(expect.stringContaining('route="/api/movements/:movementId",method="GET",status="404"'));
    expect(series('wsm_api_http_requests_total')).toContainEqual(expect.stringContaining('route="unmatched",method="GET",status="404"'));
    expect(series('wsm_api_prisma_query_duration_seconds_count')).toContainEqual(expect.stringContaining('model="Movement",operation="readMovementsById"'));
    expect(series('wsm_api_cache_requests_total')).toContainEqual(expect.stringContaining('cache="movement",result="miss"'));
  });
});
