import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { z } from 'zod';
import { EVENT_TYPE, envelopeSchema, MAX_MESSAGE_BYTES, movementDataSchema, validateEnvelope, wrapInEnvelope } from '../../lib/event.js';
import { createLogger } from '../../lib/log.js';
import { cursorList, decodeCursor, isBigintId, keysetPage } from '../cursor.js';
import type { ApiDeps } from '../deps.js';
import { ResourceRouter } from '../openapi/route.js';
import { badRequest, ProblemError } from '../problem.js';
import { instantParam, orderParam, pageOf, pageQuery, uuid } from '../schemas/common.js';
import { timeRange } from '../time-range.js';
import { acceptedSchema, eventOutcome, eventSchema, rejectReason } from '../schemas/resources.js';
import { eventBody } from '../serialize.js';
import { readEvents, type EventFilters, type EventOrder } from './events-query.js';

/** The ledger (GET /api/events) and the one write: publishing a new event (POST /api/events). */

const log = createLogger('api.events');
const TAG = 'events';
const CURSOR = 'events';

/** The body POST accepts: a full envelope, or only its `data` with an optional `source`. */
export const newEventSchema = z.union([
  envelopeSchema,
  movementDataSchema.extend({ source: z.string().regex(/^WH-\d+$/, 'WH- followed by digits').optional().describe('Envelope source; default WH-0.') }),
]);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** 403 when writes are off; 401 without a bearer token; 403 with a wrong one (compared in constant time). */
function requireToken(token: string | undefined): Middleware {
  const expected = token ? digest(token) : undefined;
  return async (ctx, next) => {
    if (!expected) throw new ProblemError(403, 'Forbidden', 'writes are disabled: the API was started without API_WRITE_TOKEN');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
    if (!match?.[1]) {
      throw new ProblemError(401, 'Unauthorized', 'send Authorization: Bearer <API_WRITE_TOKEN>', {}, { 'WWW-Authenticate': 'Bearer' });
    }
    if (!timingSafeEqual(digest(match[1]), expected)) throw new ProblemError(403, 'Forbidden', 'the bearer token is not the write token');
    await next();
  };
}

/** JSON only, at most one message's size: a bigger body could never be a valid event (413). */
const parseBody = koaBody({ json: true, jsonStrict: true, jsonLimit: MAX_MESSAGE_BYTES, urlencoded: false, text: false, multipart: false });

const requireJson: Middleware = async (ctx, next) => {
  if (!ctx.is('application/json')) throw new ProblemError(415, 'Unsupported Media Type', 'the request body must be application/json');
  await next();
};

function invalidEvent(reason: string, detail: string): ProblemError {
  const name = detail.split(':')[0] ?? '(body)';
  return new ProblemError(400, 'Bad Request', `body parameter "${name}": ${detail}`, { reason, invalidParams: [{ in: 'body', name, reason: detail }] });
}

/** The envelope to publish: validated as the processor will validate it. */
function toEnvelope(body: unknown) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidEvent('invalid_field', '(body): must be a JSON object');
  const record = body as Record<string, unknown>;
  if ('data' in record || 'specversion' in record) {
    const result = validateEnvelope(record);
    if (!result.ok) throw invalidEvent(result.reason, result.detail);
    return envelopeSchema.parse(record);
  }
  const { source, ...data } = record;
  const id = randomUUID();
  const candidate = { id, source: source ?? 'WH-0', specversion: '1.0', type: EVENT_TYPE, time: Date.now(), data };
  const result = validateEnvelope(candidate);
  if (!result.ok) throw invalidEvent(result.reason, result.detail.replace(/^data\./, ''));
  return wrapInEnvelope(movementDataSchema.parse(data), { id, source: candidate.source as string, timeMs: candidate.time });
}

export function eventsRouter(deps: ApiDeps): ResourceRouter {
  const resource = new ResourceRouter();

  resource.add(
    {
      method: 'get',
      path: '/api/events',
      operationId: 'listEvents',
      tag: TAG,
      summary: 'The ledger: every valid event with its outcome, in order of application or by time',
      description:
        'Without a time range the ledger is listed in order of application (`seq`). With `since`/`until` it is listed by ' +
        'event time, with `receivedSince`/`receivedUntil` by the time the processor stored it (ties by `seq`): a list is ' +
        'ordered by the time it is filtered on, so every page is one index range however old the range, and the two ' +
        'ranges cannot be combined. Ranges are half-open, [since, until). `order=desc` lists newest first; pages follow ' +
        '`nextCursor` in either direction without gaps or repeats.',
      query: z.strictObject({
        movementId: uuid.optional(),
        warehouseId: uuid.optional(),
        productId: uuid.optional(),
        event: z.enum(['arrival', 'departure']).optional(),
        outcome: eventOutcome.optional(),
        rejectReason: rejectReason.optional().describe('Only events rejected for this reason.'),
        since: instantParam.optional().describe('Events whose event time (data.timestamp) is at or after this instant; lists by event time.'),
        until: instantParam.optional().describe('Events whose event time is before this instant; lists by event time.'),
        receivedSince: instantParam.optional().describe('Events the processor stored at or after this instant; lists by that time.'),
        receivedUntil: instantParam.optional().describe('Events the processor stored before this instant; lists by that time.'),
        order: orderParam.default('asc'),
        ...pageQuery,
      }),
      responses: {
        200: { description: 'A page of ledger rows.', schema: pageOf(eventSchema), name: 'EventPage' },
        400: { description: 'A parameter is invalid, or two time ranges were combined; `invalidParams` names it.' },
      },
    },
    async (ctx, { query }) => {
      const eventTime = timeRange(query.since, query.until, 'since');
      const receivedAt = timeRange(query.receivedSince, query.receivedUntil, 'receivedSince');
      if (eventTime && receivedAt) {
        throw badRequest([{ in: 'query', name: 'receivedSince', reason: 'cannot be combined with since/until: a list is ordered by the one time it is filtered on' }]);
      }
      const order: EventOrder = eventTime ? 'eventTime' : receivedAt ? 'receivedAt' : 'seq';
      const list = cursorList(CURSOR, order === 'seq' ? undefined : order, query.order);
      const after = query.cursor ? BigInt(decodeCursor(query.cursor, list, 1, isBigintId)[0]!) : undefined;
      if (query.rejectReason && query.outcome === 'applied') {
        ctx.body = { items: [], nextCursor: null }; // a contradiction: nothing matches
        return;
      }
      const filters: EventFilters = {
        movementId: query.movementId,
        warehouseId: query.warehouseId,
        productId: query.productId,
        event: query.event,
        outcome: query.rejectReason ? 'rejected' : query.outcome,
        rejectReason: query.rejectReason,
        eventTime,
        receivedAt,
      };
      const rows = await readEvents(deps.db, filters, order, query.order, after, query.limit + 1);
      const { page, nextCursor } = keysetPage(rows, query.limit, list, (row) => [row.seq.toString()]);
      ctx.body = { items: page.map(eventBody), nextCursor };
    },
  );

  resource.add(
    {
      method: 'post',
      path: '/api/events',
      operationId: 'publishEvent',
      tag: TAG,
      summary: 'Publish one movement event to the topic the processor reads',
      description:
        'Off unless the API runs with API_WRITE_TOKEN; then requires `Authorization: Bearer <token>`. The body is a full ' +
        'envelope, or only its `data` (plus an optional `source`, default WH-0), which the API wraps in an envelope with a new ' +
        'message id. It is validated with the processor\'s own schema and published keyed by warehouse id; 202 means the ' +
        `broker acknowledged it, not that it was processed. Bodies over ${MAX_MESSAGE_BYTES} bytes answer 413.`,
      body: { schema: newEventSchema, name: 'NewEvent', description: 'A full envelope, or its data part.' },
      security: true,
      responses: {
        202: { description: 'Published.', schema: acceptedSchema, name: 'Accepted' },
        400: { description: 'Not valid JSON, or not a valid event: `reason` is the dead-letter reason the processor would give.' },
        401: { description: 'No bearer token.' },
        403: { description: 'Wrong token, or writes are disabled.' },
        413: { description: `Body larger than ${MAX_MESSAGE_BYTES} bytes.` },
        415: { description: 'Body is not application/json.' },
        503: { description: 'Kafka did not acknowledge the message.' },
      },
    },
    async (ctx) => {
      const envelope = toEnvelope(ctx.request.body);
      if (!deps.publisher) throw new ProblemError(503, 'Service Unavailable', 'no Kafka producer is configured');
      try {
        await deps.publisher.publish(deps.topic, envelope.data.warehouse_id, Buffer.from(JSON.stringify(envelope)));
      } catch (error) {
        log.error({ err: error, topic: deps.topic }, 'publish failed');
        throw new ProblemError(503, 'Service Unavailable', 'Kafka did not acknowledge the message; retry later');
      }
      ctx.status = 202;
      ctx.body = { messageId: envelope.id };
    },
    requireToken(deps.writeToken),
    requireJson,
    parseBody,
  );

  return resource;
}
