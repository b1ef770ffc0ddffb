import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import { parseInput } from '../validate.js';

/**
 * A route is declared once, as a spec: its path, its input schemas and its responses. The same
 * spec validates requests (here) and becomes the route's OpenAPI operation (document.ts), so the
 * document cannot drift from what the server enforces.
 */

export interface ResponseSpec {
  description: string;
  /** Body schema; omitted for bodies that are not JSON (SSE, metrics text, HTML). */
  schema?: z.ZodType;
  /** Component name for `schema` in the document. */
  name?: string;
  /** Defaults to application/json, or application/problem+json for 4xx/5xx; a list when the answer is one of several. */
  contentType?: string | string[];
}

export interface RouteSpec<P extends z.ZodType | undefined = z.ZodType | undefined, Q extends z.ZodType | undefined = z.ZodType | undefined, B extends z.ZodType | undefined = z.ZodType | undefined> {
  method: 'get' | 'post';
  /** Koa path template, e.g. `/api/movements/:movementId`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  /** Request body: parsed by koa-body before the handler; validated by the handler itself. */
  body?: { schema: B; name: string; description: string };
  /** Declared headers (documentation only; the handler reads them). */
  headers?: { name: string; description: string; required: boolean; schema: z.ZodType }[];
  security?: boolean;
  responses: Record<number, ResponseSpec>;
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<P, Q> {
  params: Out<P>;
  query: Out<Q>;
}

/** One resource's router plus the specs of its routes. */
export class ResourceRouter {
  readonly router = new Router();
  readonly specs: RouteSpec[] = [];

  /**
   * Registers `spec` and its handler; params and query are validated before the handler runs,
   * after the `before` middleware (authorisation, body parsing).
   */
  add<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
    spec: RouteSpec<P, Q, B>,
    handler: (ctx: Context, input: RouteInput<P, Q>) => Promise<void> | void,
    ...before: Middleware[]
  ): this {
    this.specs.push(spec);
    this.router[spec.method](spec.operationId, spec.path, ...before, async (ctx) => {
      const params = (spec.params ? parseInput(spec.params, ctx.params, 'path') : undefined) as Out<P>;
      const query = (spec.query ? parseInput(spec.query, ctx.query, 'query') : undefined) as Out<Q>;
      await handler(ctx, { params, query });
    });
    return this;
  }
}
