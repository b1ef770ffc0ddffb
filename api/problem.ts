import type { Context, Next } from 'koa';
import { createLogger } from '../lib/log.js';
import { UNAVAILABLE_DETAIL, unavailability } from './unavailable.js';

/**
 * Errors as RFC 9457 problem details (`application/problem+json`). Validation and not-found errors
 * carry a detail written for the client; every other error answers its status text only, so no
 * internal message (SQL, stack, host names) ever reaches a response body.
 */

const log = createLogger('api.errors');

/** Retry-After of a 503: a statement timeout or a lost connection is seldom over sooner. */
export const RETRY_AFTER_SECONDS = 2;

/** One invalid input: where it was (`path`, `query`, `header`, `body`), which parameter, and why. */
export interface InvalidParam {
  in: 'path' | 'query' | 'header' | 'body';
  name: string;
  reason: string;
}

/** An error whose title and detail are safe to show the client. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

/** 400: one or more parameters are invalid; the detail names each of them. */
export function badRequest(params: InvalidParam[]): ProblemError {
  const detail = params.map((p) => `${p.in} parameter "${p.name}": ${p.reason}`).join('; ');
  return new ProblemError(400, 'Bad Request', detail, { invalidParams: params });
}

export function notFound(detail: string): ProblemError {
  return new ProblemError(404, 'Not Found', detail);
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

function send(ctx: Context, status: number, body: Record<string, unknown>): void {
  ctx.status = status;
  ctx.body = { type: 'about:blank', title: STATUS_TITLES[status] ?? 'Error', status, ...body };
  ctx.type = 'application/problem+json';
}

/**
 * The one error middleware. Order of trust: a ProblemError is ours and shown as is; a database
 * that is slow or unreachable answers 503 with Retry-After (api/unavailable.ts); an HTTP error
 * from Koa or koa-body (payload too large, bad JSON, 405) with `expose` keeps its 4xx status and a
 * fixed title; anything else is logged and answers 500 with no detail.
 */
export async function problemMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    // Statuses set without a body: no route (404), or the router's 405/501 (its Allow header stays).
    if (ctx.status >= 400 && (ctx.body === undefined || ctx.body === null)) {
      send(ctx, ctx.status, { detail: ctx.status === 404 ? `no route for ${ctx.method} ${ctx.path}` : clientErrorDetail(ctx.status) });
    }
  } catch (error) {
    if (error instanceof ProblemError) {
      send(ctx, error.status, { title: error.title, detail: error.detail, ...error.extra });
      ctx.set(error.headers);
      return;
    }
    const unavailable = unavailability(error);
    if (unavailable) {
      // Not a defect: the database is slow or out of reach. Logged without the stack, once per request.
      log.warn({ reason: unavailable, err: { message: (error as Error).message }, method: ctx.method, path: ctx.path }, 'database unavailable');
      send(ctx, 503, { detail: UNAVAILABLE_DETAIL[unavailable] });
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      return;
    }
    const http = error as { status?: unknown; statusCode?: unknown };
    const status = typeof http.status === 'number' ? http.status : typeof http.statusCode === 'number' ? http.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Koa's and koa-body's client errors: a fixed detail per status, never their message text
      // (raw-body's messages are safe, but a fixed text keeps the rule simple: no error text leaks).
      send(ctx, status, { detail: clientErrorDetail(status) });
      return;
    }
    log.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
    send(ctx, status >= 500 && status < 600 ? status : 500, {});
  }
}

function clientErrorDetail(status: number): string {
  switch (status) {
    case 400:
      return 'the request body is not valid JSON';
    case 405:
      return 'this route does not accept that method';
    case 413:
      return 'the request body is larger than the limit';
    case 415:
      return 'the request body must be application/json';
    case 501:
      return 'this method is not implemented';
    default:
      return STATUS_TITLES[status] ?? 'client error';
  }
}
