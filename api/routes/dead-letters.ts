import { z } from 'zod';
import { decodeCursor, isBigintId, keysetPage } from '../cursor.js';
import type { ApiDeps } from '../deps.js';
import type { Prisma } from '../generated/prisma/client.js';
import { ResourceRouter } from '../openapi/route.js';
import { pageOf, pageQuery } from '../schemas/common.js';
import { deadLetterReason, deadLetterSchema } from '../schemas/resources.js';
import { deadLetterBody } from '../serialize.js';

/** Invalid messages: why they were refused and where they came from. */

const CURSOR = 'dead-letters';

export function deadLettersRouter(deps: ApiDeps): ResourceRouter {
  return new ResourceRouter().add(
    {
      method: 'get',
      path: '/api/dead-letters',
      operationId: 'listDeadLetters',
      tag: 'dead letters',
      summary: 'Invalid messages with the reason and their topic, partition and offset',
      query: z.strictObject({
        reason: deadLetterReason.optional(),
        topic: z.string({ error: 'must be given once' }).max(249).optional(),
        ...pageQuery,
      }),
      responses: {
        200: { description: 'A page of dead letters, by id (arrival order).', schema: pageOf(deadLetterSchema), name: 'DeadLetterPage' },
        400: { description: 'A parameter is invalid; `invalidParams` names it.' },
      },
    },
    async (ctx, { query }) => {
      const after = query.cursor ? decodeCursor(query.cursor, CURSOR, 1, isBigintId)[0] : undefined;
      const where: Prisma.DeadLetterWhereInput = { reason: query.reason, topic: query.topic, ...(after ? { id: { gt: BigInt(after) } } : {}) };
      const rows = await deps.db.deadLetter.findMany({ where, orderBy: { id: 'asc' }, take: query.limit + 1 });
      const { page, nextCursor } = keysetPage(rows, query.limit, CURSOR, (row) => [row.id.toString()]);
      ctx.body = { items: page.map(deadLetterBody), nextCursor };
    },
  );
}
