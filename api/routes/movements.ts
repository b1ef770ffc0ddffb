import { z } from 'zod';
import { BatchLoader } from '../batch-loader.js';
import { ReadCache } from '../cache.js';
import { decodeCursor, isIsoInstant, isUuid, keysetPage } from '../cursor.js';
import type { ApiDeps } from '../deps.js';
import type { Event, Movement } from '../generated/prisma/client.js';
import { ResourceRouter } from '../openapi/route.js';
import { notFound } from '../problem.js';
import { instantParam, pageOf, pageQuery, uuid } from '../schemas/common.js';
import { movementSchema, movementState } from '../schemas/resources.js';
import { movementBody } from '../serialize.js';
import { timeRange } from '../time-range.js';
import { readMovements, readMovementsById } from './movements-query.js';

/** Movements: the departure and arrival of one movement id, joined; one, or a filtered list. */

const TAG = 'movements';
const CURSOR = 'movements';
const TIME_CURSOR = 'movements:movedAt';

/** The ledger outcome of each side's message: why stock did or did not move. */
async function withOutcomes(deps: ApiDeps, rows: Movement[]) {
  const ids = rows.flatMap((row) => [row.departureMessageId, row.arrivalMessageId]).filter((id): id is string => id !== null);
  const events = ids.length
    ? await deps.db.event.findMany({ where: { messageId: { in: ids } }, select: { messageId: true, outcome: true, rejectReason: true } })
    : [];
  const outcomes = new Map(events.map((e) => [e.messageId, { outcome: e.outcome, rejectReason: e.rejectReason }]));
  return rows.map((row) => movementBody(row, outcomes));
}

export function movementsRouter(deps: ApiDeps): ResourceRouter {
  // Cached as JSON text (null: unknown movement): a hit then costs no serialisation (api/cache.ts).
  const cache = new ReadCache<string | null>('movement', deps.cacheTtlMs, deps.metrics);
  const movements = new BatchLoader((ids: string[]) => readMovementsById(deps.db, ids), (id) => id);
  const resource = new ResourceRouter();

  resource.add(
    {
      method: 'get',
      path: '/api/movements/:movementId',
      operationId: 'getMovement',
      tag: TAG,
      summary: 'One movement: who sent, who received, how long, how much was lost',
      description:
        'State is `in_transit` (departure only), `arrived` (arrival only, departure unknown) or `completed`. ' +
        'quantityDifference = sent - received; transit = arrival time - departure time. Each side carries its ledger ' +
        'outcome: a departure rejected for insufficient stock is still part of its movement. ' +
        'Served from the read cache: an answer may be up to API_CACHE_TTL_MS (default 1000 ms) plus one database read older than the request.',
      params: z.strictObject({ movementId: uuid }),
      responses: {
        200: { description: 'The movement.', schema: movementSchema, name: 'Movement' },
        400: { description: 'The movement id is not a UUID.' },
        404: { description: 'No event of this movement has been processed.' },
      },
    },
    async (ctx, { params }) => {
      const movementId = params.movementId.toLowerCase();
      const body = await cache.get(movementId, async () => {
        const row = await movements.load(movementId);
        if (!row) return null;
        const outcomes = new Map<string, { outcome: Event['outcome']; rejectReason: Event['rejectReason'] }>();
        if (row.departureMessageId && row.departureOutcome) outcomes.set(row.departureMessageId, { outcome: row.departureOutcome, rejectReason: row.departureRejectReason });
        if (row.arrivalMessageId && row.arrivalOutcome) outcomes.set(row.arrivalMessageId, { outcome: row.arrivalOutcome, rejectReason: row.arrivalRejectReason });
        return JSON.stringify(movementBody(row, outcomes));
      });
      if (body === null) throw notFound(`movement ${movementId} has no processed event`);
      ctx.type = 'application/json';
      ctx.body = body;
    },
  );

  resource.add(
    {
      method: 'get',
      path: '/api/movements',
      operationId: 'listMovements',
      tag: TAG,
      summary: 'Movements filtered by warehouse (either side), product, state and time',
      description:
        'Listed by movement id; with `since`/`until` by the movement\'s time (its departure, else its arrival), then id. ' +
        'The range is half-open, [since, until).',
      query: z.strictObject({
        warehouseId: uuid.optional().describe('Movements that left or reached this warehouse.'),
        productId: uuid.optional(),
        state: movementState.optional(),
        since: instantParam.optional().describe('Movements whose time (departure, else arrival) is at or after this instant.'),
        until: instantParam.optional().describe('Movements whose time (departure, else arrival) is before this instant.'),
        ...pageQuery,
      }),
      responses: {
        200: { description: 'A page of movements, by movement id (by time with a time range).', schema: pageOf(movementSchema), name: 'MovementPage' },
        400: { description: 'A parameter is invalid; `invalidParams` names it.' },
      },
    },
    async (ctx, { query }) => {
      const movedAt = timeRange(query.since, query.until, 'since');
      const list = movedAt ? TIME_CURSOR : CURSOR;
      const after = query.cursor ? decodeCursor(query.cursor, list, movedAt ? 2 : 1, movedAt ? [isIsoInstant, isUuid] : isUuid) : undefined;
      const filters = { warehouseId: query.warehouseId, productId: query.productId, state: query.state, movedAt };
      const rows = await readMovements(deps.db, filters, after, query.limit + 1);
      const { page, nextCursor } = keysetPage(rows, query.limit, list, (row) => (movedAt ? [row.movedAt!.toISOString(), row.movementId] : [row.movementId]));
      ctx.body = { items: await withOutcomes(deps, page), nextCursor };
    },
  );

  return resource;
}
