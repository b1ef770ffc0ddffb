import { z } from 'zod';
import { ReadCache } from '../cache.js';
import { decodeCursor, isUuid, keysetPage } from '../cursor.js';
import type { ApiDeps } from '../deps.js';
import type { Movement, Prisma } from '../generated/prisma/client.js';
import { ResourceRouter } from '../openapi/route.js';
import { badRequest, notFound } from '../problem.js';
import { instantParam, pageOf, pageQuery, uuid } from '../schemas/common.js';
import { movementSchema, movementState } from '../schemas/resources.js';
import { movementBody } from '../serialize.js';

/** Movements: the departure and arrival of one movement id, joined; one, or a filtered list. */

const TAG = 'movements';
const CURSOR = 'movements';

/** The ledger outcome of each side's message: why stock did or did not move. */
async function withOutcomes(deps: ApiDeps, rows: Movement[]) {
  const ids = rows.flatMap((row) => [row.departureMessageId, row.arrivalMessageId]).filter((id): id is string => id !== null);
  const events = ids.length
    ? await deps.db.event.findMany({ where: { messageId: { in: ids } }, select: { messageId: true, outcome: true, rejectReason: true } })
    : [];
  const outcomes = new Map(events.map((e) => [e.messageId, { outcome: e.outcome, rejectReason: e.rejectReason }]));
  return rows.map((row) => movementBody(row, outcomes));
}

function stateFilter(state: z.output<typeof movementState> | undefined): Prisma.MovementWhereInput {
  switch (state) {
    case 'in_transit':
      return { departureMessageId: { not: null }, arrivalMessageId: null };
    case 'arrived':
      return { departureMessageId: null, arrivalMessageId: { not: null } };
    case 'completed':
      return { departureMessageId: { not: null }, arrivalMessageId: { not: null } };
    default:
      return {};
  }
}

/**
 * A movement's time is its departure, or its arrival when no departure is known. The range is
 * half-open, [since, until), so consecutive windows never count a movement twice.
 */
function timeFilter(since: string | undefined, until: string | undefined): Prisma.MovementWhereInput {
  if (!since && !until) return {};
  const range: Prisma.DateTimeNullableFilter = {};
  if (since) range.gte = new Date(since);
  if (until) range.lt = new Date(until);
  return { OR: [{ departedAt: range }, { departedAt: null, arrivedAt: range }] };
}

export function movementsRouter(deps: ApiDeps): ResourceRouter {
  const cache = new ReadCache<z.output<typeof movementSchema> | null>('movement', deps.cacheTtlMs, deps.metrics);
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
        const row = await deps.db.movement.findUnique({ where: { movementId } });
        return row ? ((await withOutcomes(deps, [row]))[0] ?? null) : null;
      });
      if (!body) throw notFound(`movement ${movementId} has no processed event`);
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
      query: z.strictObject({
        warehouseId: uuid.optional().describe('Movements that left or reached this warehouse.'),
        productId: uuid.optional(),
        state: movementState.optional(),
        since: instantParam.optional().describe('Movements whose time (departure, else arrival) is at or after this instant.'),
        until: instantParam.optional().describe('Movements whose time (departure, else arrival) is before this instant.'),
        ...pageQuery,
      }),
      responses: {
        200: { description: 'A page of movements, by movement id.', schema: pageOf(movementSchema), name: 'MovementPage' },
        400: { description: 'A parameter is invalid; `invalidParams` names it.' },
      },
    },
    async (ctx, { query }) => {
      if (query.since && query.until && Date.parse(query.since) > Date.parse(query.until)) {
        throw badRequest([{ in: 'query', name: 'since', reason: 'must not be after until' }]);
      }
      const after = query.cursor ? decodeCursor(query.cursor, CURSOR, 1, isUuid)[0] : undefined;
      const where: Prisma.MovementWhereInput = {
        AND: [
          query.warehouseId ? { OR: [{ sourceWarehouseId: query.warehouseId }, { destinationWarehouseId: query.warehouseId }] } : {},
          query.productId ? { productId: query.productId } : {},
          stateFilter(query.state),
          timeFilter(query.since, query.until),
          after ? { movementId: { gt: after } } : {},
        ],
      };
      const rows = await deps.db.movement.findMany({ where, orderBy: { movementId: 'asc' }, take: query.limit + 1 });
      const { page, nextCursor } = keysetPage(rows, query.limit, CURSOR, (row) => [row.movementId]);
      ctx.body = { items: await withOutcomes(deps, page), nextCursor };
    },
  );

  return resource;
}
