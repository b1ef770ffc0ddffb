/* eslint-disable @typescript-eslint/no-unsafe-member-access -- bodies are validated against the OpenAPI schemas (helpers.ts), then read as plain JSON */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GZIP_BUDGET_BYTES, type ConsoleManifest } from '../console/build.js';
import { CONSOLE_VIEWS } from '../console/views.js';
import { CONSOLE_BUILD_COMMAND, CONSOLE_CSP, CONSOLE_DIST } from '../routes/console.js';
import { startApi, type ApiHarness } from './helpers.js';

/**
 * How the API serves the console (the page for every view, its assets, the CSP, a missing
 * bundle), through the real HTTP server. The browser tests (browser/console.test.ts) check what
 * the page then does. Needs the bundle: `make console` (make test builds it first).
 */

let api: ApiHarness;
let manifest: ConsoleManifest;

beforeAll(async () => {
  manifest = JSON.parse(await readFile(path.join(CONSOLE_DIST, 'manifest.json'), 'utf8').catch(() => {
    throw new Error(`no console bundle in ${CONSOLE_DIST}: run \`make console\` first`);
  })) as ConsoleManifest;
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe('the console page', () => {
  it('is served at /console and at every view, with a CSP that allows this origin only and no inline code', async () => {
    for (const path of ['/console', '/console/', ...CONSOLE_VIEWS.map((view) => `/console/${view}?warehouseId=x`)]) {
      const response = await api.get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const html = response.body as string;
      expect(html).toContain(`src="/console/assets/${manifest.script}"`);
      expect(html).toContain(`href="/console/assets/${manifest.stylesheet}"`);
      // Nothing from another origin, no inline script or style for the CSP to refuse.
      expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|style=/);
    }
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'", "frame-ancestors 'none'"]) {
      expect(CONSOLE_CSP).toContain(directive);
    }
    expect(CONSOLE_CSP).not.toMatch(/unsafe-|https?:|\*/);
  });

  it('answers 404 problem+json for a view that does not exist', async () => {
    const response = await api.get('/console/nope');
    expect(response.status).toBe(404);
    expect(response.body.detail).toContain('no view "nope"');
    expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
  });
});

describe('the console assets', () => {
  it('serve gzip when accepted and identity otherwise, the same bytes, cached for a year under hashed names', async () => {
    for (const name of [manifest.script, manifest.stylesheet]) {
      const raw = await readFile(path.join(CONSOLE_DIST, 'assets', name));
      const gzip = await api.get(`/console/assets/${name}`, { 'accept-encoding': 'gzip' });
      expect(gzip.status).toBe(200);
      expect(gzip.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(gzip.headers.get('vary')).toBe('Accept-Encoding');
      expect(gzip.headers.get('content-type')).toMatch(name.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      // fetch decodes gzip itself; the header says it was sent compressed.
      expect(gzip.headers.get('content-encoding')).toBe('gzip');
      expect(gzip.body).toBe(raw.toString('utf8'));

      const identity = await api.get(`/console/assets/${name}`, { 'accept-encoding': 'identity' });
      expect(identity.headers.get('content-encoding')).toBeNull();
      expect(identity.body).toBe(raw.toString('utf8'));
    }
    const stored = await readFile(path.join(CONSOLE_DIST, 'assets', `${manifest.script}.gz`));
    expect(gunzipSync(stored).equals(await readFile(path.join(CONSOLE_DIST, 'assets', manifest.script)))).toBe(true);
    const icon = await api.get('/console/assets/favicon.svg');
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('public, max-age=86400');
  });

  it('serve nothing outside the build: other names and paths that climb out answer 404', async () => {
    for (const name of ['manifest.json', 'index.html', 'nope-ABCDEFGH.js', '..%2F..%2Fpackage.json', '%2e%2e%2fmanifest.json', 'main.js.gz', '.env']) {
      const response = await api.get(`/console/assets/${name}`);
      expect(response.status, name).toBe(404);
    }
    expect((await api.get('/console/assets/../../package.json')).status).toBe(404);
  });

  it('stay within the size budget the build enforces', () => {
    expect(manifest.pageGzipBytes).toBeGreaterThan(0);
    expect(manifest.pageGzipBytes).toBeLessThanOrEqual(GZIP_BUDGET_BYTES);
  });
});

describe('without a bundle', () => {
  it('answers 503 naming the build command, and the API goes on serving', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'wsm-no-console-'));
    const bare = await startApi({ database: api.database, consoleDir: empty });
    try {
      for (const path of ['/console', '/console/stock', `/console/assets/${manifest.script}`]) {
        const response = await bare.get(path);
        expect(response.status, path).toBe(503);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.body.detail).toContain(CONSOLE_BUILD_COMMAND);
      }
      expect((await bare.get('/health')).status).toBe(200);
      expect((await bare.get('/api/stats')).status).toBe(200);
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
