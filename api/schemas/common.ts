import { z } from 'zod';

/**
 * Building blocks shared by every route's schemas: ids, pagination, the problem body. Each carries
 * a description because these schemas are also the OpenAPI document (api/openapi/document.ts).
 */

/** Any 8-4-4-4-12 hex id, the same rule as the event contract (lib/event.ts). */
export const uuid = z.guid({ error: 'must be a UUID (8-4-4-4-12 hex digits)' });

/** Query values arrive as strings (or arrays when repeated); a repeated filter is refused. */
const single = z.string({ error: 'must be given once, as a string' });

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export const limitParam = z.coerce
  .number({ error: `must be an integer from 1 to ${MAX_PAGE_SIZE}` })
  .int(`must be an integer from 1 to ${MAX_PAGE_SIZE}`)
  .min(1, `must be an integer from 1 to ${MAX_PAGE_SIZE}`)
  .max(MAX_PAGE_SIZE, `must be an integer from 1 to ${MAX_PAGE_SIZE}`)
  .default(DEFAULT_PAGE_SIZE)
  .describe(`Page size, 1 to ${MAX_PAGE_SIZE}.`);

export const cursorParam = single
  .max(512, 'is too long to be a cursor')
  .optional()
  .describe('Opaque cursor from the previous page\'s `nextCursor`; omit for the first page.');

/** Pagination parameters every list takes. */
export const pageQuery = { limit: limitParam, cursor: cursorParam };

/** An ISO-8601 instant with zone, as a query filter. */
export const instantParam = single.pipe(z.iso.datetime({ offset: true, error: 'must be an ISO-8601 instant with zone, e.g. 2025-02-18T14:34:56Z' }));

/** A non-negative integer query filter (quantities). */
export const quantityParam = z.coerce
  .number({ error: 'must be a non-negative integer' })
  .int('must be a non-negative integer')
  .min(0, 'must be a non-negative integer')
  .max(Number.MAX_SAFE_INTEGER, 'is too large');

/** A page of a list: `nextCursor` is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to read the next page; null when this is the last page.'),
  });
}

/** RFC 9457 problem details, the body of every error. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    invalidParams: z
      .array(z.object({ in: z.enum(['path', 'query', 'header', 'body']), name: z.string(), reason: z.string() }))
      .optional()
      .describe('On 400: each invalid parameter and why.'),
    reason: z.string().optional().describe('On 400 from POST /api/events: the dead-letter reason the processor would give.'),
  })
  .describe('Problem details (RFC 9457), served as application/problem+json.');

export const isoInstant = z.iso.datetime();

/** Direction of a list: `asc` oldest first, `desc` newest first. */
export const orderParam = z.enum(['asc', 'desc'], { error: 'must be asc or desc' }).describe('`asc`: oldest first; `desc`: newest first.');
