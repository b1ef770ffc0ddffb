import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { cursorList, decodeCursor, isBigintId, keysetPage } from '../cursor.js';
import type { ApiDeps } from '../deps.js';
import { ResourceRouter } from '../openapi/route.js';
import { badRequest, ProblemError, RETRY_AFTER_SECONDS } from '../problem.js';
import type { RefusedReason } from '../status-hub.js';
import { instantParam, orderParam, pageOf, pageQuery, uuid } from '../schemas/common.js';
import { statusChangeSchema, stockStatus } from '../schemas/resources.js';
import { statusChangeBody } from '../serialize.js';
import { timeRange } from '../time-range.js';
import { readStatusChanges } from './status-changes-query.js';

/** The status-change log, and its live Server-Sent Events stream. */

const TAG = 'status changes';
const CURSOR = 'status-changes';
const REFUSED_DETAIL: Record<RefusedReason, string> = {
  full: 'the live stream has as many subscribers as API_SSE_MAX_SUBSCRIBERS allows; retry later or read /api/status-changes',
  not_live: 'the live stream has lost its database connection and is reconnecting; retry with Last-Event-ID to miss nothing',
};
const eventId = z.string().regex(/^\d{1,15}$/, 'must be a status change id (a non-negative integer)');

export function statusChangesRouter(deps: ApiDeps): ResourceRouter {
  const resource = new ResourceRouter();

  resource.add(
    {
      method: 'get',
      path: '/api/status-changes',
      operationId: 'listStatusChanges',
      tag: TAG,
      summary: 'The log of stock status changes, in commit order or by time',
      description:
        'In commit order (`id`, the live stream\'s event id) without a time range; with `since`/`until` (half-open, on ' +
        'the time the change was committed) by that time, then id. `order=desc` lists newest first.',
      query: z.strictObject({
        warehouseId: uuid.optional(),
        productId: uuid.optional(),
        status: stockStatus.optional().describe('Only changes to this status.'),
        since: instantParam.optional().describe('Changes logged at or after this instant; lists by that time.'),
        until: instantParam.optional().describe('Changes logged before this instant; lists by that time.'),
        order: orderParam.default('asc').describe('`asc`: oldest first; `desc`: newest first (the latest changes in one request).'),
        ...pageQuery,
      }),
      responses: {
        200: { description: 'A page of status changes.', schema: pageOf(statusChangeSchema), name: 'StatusChangePage' },
        400: { description: 'A parameter is invalid; `invalidParams` names it.' },
      },
    },
    async (ctx, { query }) => {
      const changedAt = timeRange(query.since, query.until, 'since');
      const list = cursorList(CURSOR, changedAt ? 'changedAt' : undefined, query.order);
      const after = query.cursor ? BigInt(decodeCursor(query.cursor, list, 1, isBigintId)[0]!) : undefined;
      const filters = { warehouseId: query.warehouseId, productId: query.productId, status: query.status, changedAt };
      const rows = await readStatusChanges(deps.db, filters, query.order, after, query.limit + 1);
      const { page, nextCursor } = keysetPage(rows, query.limit, list, (row) => [row.id.toString()]);
      ctx.body = { items: page.map(statusChangeBody), nextCursor };
    },
  );

  resource.add(
    {
      method: 'get',
      path: '/api/status-changes/stream',
      operationId: 'streamStatusChanges',
      tag: TAG,
      summary: 'Live status changes as Server-Sent Events',
      description:
        'Each event is `id: <status change id>` and `data: <StatusChange JSON>`, sent within about a second of the ' +
        'processor\'s commit (PostgreSQL LISTEN/NOTIFY). A `: heartbeat` comment every 15 s keeps idle connections open. ' +
        'Reconnect with the `Last-Event-ID` header (EventSource does this itself) or `lastEventId` query parameter to first ' +
        'receive every change after that id from the log, then live ones: no change is lost across a reconnect. Without ' +
        'either, the stream starts with changes committed after it opened. If the API loses its database connection, it ends ' +
        'every stream (reconnect with Last-Event-ID) and answers 503 until the connection is back, so an open stream is a live one.',
      query: z.strictObject({ lastEventId: eventId.optional().describe('Resume after this id (for clients that cannot set headers).') }),
      headers: [{ name: 'Last-Event-ID', required: false, description: 'Resume after this status change id.', schema: eventId }],
      responses: {
        200: { description: 'An endless text/event-stream of status changes.', contentType: 'text/event-stream' },
        400: { description: 'Last-Event-ID is not a status change id.' },
        503: { description: 'Refused: API_SSE_MAX_SUBSCRIBERS streams are open, or the stream lost its database connection (reconnecting). Retry after `Retry-After` seconds.' },
      },
    },
    (ctx, { query }) => {
      const header = ctx.get('last-event-id');
      let resumeAfter: number | undefined;
      if (header !== '') {
        const parsed = eventId.safeParse(header);
        if (!parsed.success) throw badRequest([{ in: 'header', name: 'Last-Event-ID', reason: 'must be a status change id (a non-negative integer)' }]);
        resumeAfter = Number(parsed.data);
      } else if (query.lastEventId !== undefined) {
        resumeAfter = Number(query.lastEventId);
      }

      const stream = new PassThrough({ highWaterMark: 64 * 1024 });
      const subscription = deps.statusHub.subscribe(
        {
          write: (chunk) => {
            if (!stream.writableEnded) stream.write(chunk);
            return stream.writableLength;
          },
          close: () => stream.end(),
        },
        resumeAfter,
      );
      if (!subscription.ok) {
        throw new ProblemError(503, 'Service Unavailable', REFUSED_DETAIL[subscription.reason], {}, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
      }
      ctx.req.socket.setTimeout(0);
      ctx.req.socket.setNoDelay(true);
      ctx.status = 200;
      ctx.type = 'text/event-stream';
      ctx.set({ 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      ctx.body = stream;
      // Reconnect after 2 s if the connection drops; the opening comment sends the headers at once.
      stream.write('retry: 2000\n: connected\n\n');
      const stop = () => {
        subscription.unsubscribe();
        stream.end();
      };
      ctx.req.on('close', stop);
      stream.on('error', stop);
    },
  );

  return resource;
}
