/* eslint-disable @typescript-eslint/no-unsafe-member-access -- a parsed OpenAPI document and response bodies are plain JSON */
import type { AddressInfo } from 'node:net';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { roleUrl } from '../../lib/testing/roles.js';
import { createApp, type App } from '../app.js';
import { createDatabase, type Database } from '../db.js';
import type { Publisher } from '../deps.js';
import { createHttpServer, type HttpLimits } from '../http-server.js';
import { createApiMetrics, type ApiMetrics } from '../metrics.js';
import { StatusChangeHub } from '../status-hub.js';

/**
 * The API under test: a fresh migrated database, the real app behind a real HTTP server on an
 * ephemeral port, and a client that checks every JSON answer against the served OpenAPI document.
 */

export interface ApiHarness {
  baseUrl: string;
  database: TestDatabase;
  db: Database;
  metrics: ApiMetrics;
  hub: StatusChangeHub;
  app: App;
  /** GET (or any method) and parse; checks the body against the document's schema for the route. */
  request(method: string, path: string, init?: { body?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  get(path: string, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Stops listening and cuts every open connection (SSE streams too), as a crashed API would; `resume` listens on the same port again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response fields
}

export interface HarnessOptions {
  cacheTtlMs?: number;
  writeToken?: string;
  publisher?: Publisher;
  topic?: string;
  heartbeatMs?: number;
  database?: TestDatabase;
  consoleDir?: string;
  /** Where the API connects; the test database as the read-only API role by default. */
  apiDatabaseUrl?: string;
  /** The API's statement timeout (API_STATEMENT_TIMEOUT_MS); 5 s by default, as in production. */
  statementTimeoutMs?: number;
  /** Client-side limits of the API's pool and LISTEN connection (api/db.ts, api/status-hub.ts defaults otherwise). */
  queryTimeoutMs?: number;
  connectTimeoutMs?: number;
  probeMs?: number;
  probeTimeoutMs?: number;
  reconnectMaxMs?: number;
  readyTimeoutMs?: number;
  maxSubscribers?: number;
  httpLimits?: HttpLimits;
  /** Every statement the API's Prisma client runs (see api/db.ts). */
  onQuery?: (sql: string, params: unknown[]) => void;
}

export async function startApi(options: HarnessOptions = {}): Promise<ApiHarness> {
  const database = options.database ?? (await createTestDatabase('api'));
  const apiUrl = options.apiDatabaseUrl ?? (await apiRoleUrl(database));
  const metrics = createApiMetrics();
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  const db = createDatabase(apiUrl, metrics, { poolSize: 4, statementTimeoutMs, queryTimeoutMs: options.queryTimeoutMs, connectTimeoutMs: options.connectTimeoutMs, onQuery: options.onQuery });
  const hub = new StatusChangeHub(apiUrl, db, metrics, {
    statementTimeoutMs,
    heartbeatMs: options.heartbeatMs,
    probeMs: options.probeMs,
    probeTimeoutMs: options.probeTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    maxSubscribers: options.maxSubscribers,
    reconnectMaxMs: options.reconnectMaxMs,
  });
  await hub.start();
  const app = createApp({
    db,
    metrics,
    statusHub: hub,
    cacheTtlMs: options.cacheTtlMs ?? 0,
    writeToken: options.writeToken,
    publisher: options.publisher,
    topic: options.topic ?? 'test.api-events',
    consoleDir: options.consoleDir,
    readyTimeoutMs: options.readyTimeoutMs,
  });
  const handle = app.app.callback();
  const server = createHttpServer((req, res) => void handle(req, res), options.httpLimits);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const validator = new DocumentValidator(app.document);

  const request: ApiHarness['request'] = async (method, path, init = {}) => {
    const response = await fetch(baseUrl + path, { method, headers: init.headers, body: init.body });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const body: unknown = type.includes('json') && text ? JSON.parse(text) : text;
    validator.check(method, path, response.status, type, body);
    return { status: response.status, headers: response.headers, body };
  };

  return {
    baseUrl,
    database,
    db,
    metrics,
    hub,
    app,
    request,
    get: (path, headers) => request('GET', path, { headers }),
    async pause() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    async resume() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    async close() {
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.$disconnect();
      if (!options.database) await database.drop();
    },
  };
}

/**
 * The API's read-only role (contract 2: `wsm_api`, SELECT only, made by the roles migration), with
 * the password the test run gave it (lib/testing/global-setup.ts), so every API test runs without
 * write privileges.
 */
export function apiRoleUrl(database: TestDatabase): Promise<string> {
  return Promise.resolve(roleUrl(database.url, 'api'));
}

type JsonObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a parsed OpenAPI document

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = addFormatsModule.default;

/**
 * Validates answers against the OpenAPI document: finds the operation whose path template matches,
 * the response of that status, and checks the JSON body with the schema (JSON Schema 2020-12).
 * An answer whose status the document does not list fails the test.
 */
export class DocumentValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { regex: RegExp; template: string }[];
  checked = 0;

  constructor(private readonly document: JsonObject) {
    addFormats(this.ajv);
    this.routes = Object.keys(document.paths as JsonObject).map((template) => ({
      template,
      regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
  }

  check(method: string, path: string, status: number, contentType: string, body: unknown): void {
    // The router is not strict about one trailing slash (`/api/stock/` is `/api/stock`).
    const pathname = new URL(path, 'http://x').pathname.replace(/(.)\/$/, '$1');
    const route = this.routes
      .filter((r) => r.regex.test(pathname))
      .sort((a, b) => a.template.split('{').length - b.template.split('{').length)[0];
    const operationMethod = method === 'HEAD' ? 'get' : method.toLowerCase();
    const operation = route ? (this.document.paths[route.template]?.[operationMethod] as JsonObject | undefined) : undefined;
    if (method === 'OPTIONS' && status === 200) return; // the router's answer: Allow header, no body
    if (method === 'HEAD') {
      // A GET without its body: check the status against the GET operation only.
      if (operation === undefined) expect([404, 405], `${method} ${path} answered ${status}`).toContain(status);
      return;
    }
    if (!operation) {
      // Not a documented operation: only 404 (unknown route) and 405 (known path, other method) may answer.
      expect([404, 405], `${method} ${path} answered ${status} but is not documented`).toContain(status);
      expect(contentType).toContain('application/problem+json');
      this.validate('#/components/schemas/Problem', body, `${method} ${path}`);
      return;
    }
    const response = operation.responses?.[String(status)] as JsonObject | undefined;
    expect(response, `${method} ${path} answered ${status}, which its operation does not document`).toBeDefined();
    const media = Object.entries((response?.content ?? {}) as JsonObject);
    const mediaTypes = media.map(([type]) => type.split(';')[0]);
    if (mediaTypes.length > 0) expect(mediaTypes, `${method} ${path} ${status}: documented media types`).toContain(contentType.split(';')[0]);
    const schema = (media[0]?.[1] as JsonObject | undefined)?.schema as JsonObject | undefined;
    if (schema?.$ref) this.validate(schema.$ref as string, body, `${method} ${path} ${status}`);
  }

  private validate(ref: string, body: unknown, what: string): void {
    let validate = this.compiled.get(ref);
    if (!validate) {
      const schema = this.document.components.schemas[ref.split('/').pop()!] as JsonObject;
      validate = this.ajv.compile(schema);
      this.compiled.set(ref, validate);
    }
    const ok = validate(body);
    expect(ok, `${what}: body does not match ${ref}: ${this.ajv.errorsText(validate.errors)}`).toBe(true);
    this.checked++;
  }
}

/** Reads every page of a list, following nextCursor. */
export async function readAllPages(api: ApiHarness, path: string, limit: number): Promise<{ items: JsonObject[]; pages: number }> {
  const items: JsonObject[] = [];
  let cursor: string | null = null;
  let pages = 0;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const url = `${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const response = await api.get(url);
    expect(response.status, `${url}: ${JSON.stringify(response.body)}`).toBe(200);
    items.push(...(response.body.items as JsonObject[]));
    cursor = response.body.nextCursor as string | null;
    pages++;
    if (pages > 10_000) throw new Error('pagination does not end');
  } while (cursor);
  return { items, pages };
}
