import type { z } from 'zod';
import { REJECT_REASONS } from '../../lib/terms.js';
import { ReadCache } from '../cache.js';
import type { ApiDeps } from '../deps.js';
import { ResourceRouter } from '../openapi/route.js';
import { statsSchema } from '../schemas/resources.js';

/** Totals over the whole store, from aggregate queries (cached like the point reads). */

type Stats = z.output<typeof statsSchema>;

async function loadStats(deps: ApiDeps): Promise<Stats> {
  const { db } = deps;
  const [outcomes, deadLetters, stock, distinct, counter, times] = await Promise.all([
    db.event.groupBy({ by: ['outcome', 'rejectReason'], _count: { _all: true } }),
    db.deadLetter.groupBy({ by: ['reason'], _count: { _all: true } }),
    db.stock.count(),
    // Prisma has no count(DISTINCT): one raw statement, no input in it.
    db.$queryRaw<{ warehouses: bigint; products: bigint }[]>`SELECT count(DISTINCT warehouse_id) AS warehouses, count(DISTINCT product_id) AS products FROM stock`,
    db.statusChangeCounter.findUnique({ where: { singleton: true } }),
    db.event.aggregate({ _max: { eventTime: true, receivedAt: true } }),
  ]);
  const rejectedByReason = Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as Stats['events']['rejectedByReason'];
  let applied = 0;
  let rejected = 0;
  for (const row of outcomes) {
    if (row.outcome === 'applied') applied += row._count._all;
    else {
      rejected += row._count._all;
      if (row.rejectReason) rejectedByReason[row.rejectReason] += row._count._all;
    }
  }
  const byReason: Record<string, number> = {};
  for (const row of deadLetters) byReason[row.reason] = row._count._all;
  return {
    events: { total: applied + rejected, applied, rejected, rejectedByReason },
    deadLetters: { total: Object.values(byReason).reduce((a, b) => a + b, 0), byReason },
    stockRows: stock,
    warehouses: Number(distinct[0]?.warehouses ?? 0n),
    products: Number(distinct[0]?.products ?? 0n),
    statusChanges: Number(counter?.total ?? 0n),
    lastEventTime: times._max.eventTime?.toISOString() ?? null,
    lastReceivedAt: times._max.receivedAt?.toISOString() ?? null,
  };
}

export function statsRouter(deps: ApiDeps): ResourceRouter {
  const cache = new ReadCache<Stats>('stats', deps.cacheTtlMs, deps.metrics);
  return new ResourceRouter().add(
    {
      method: 'get',
      path: '/api/stats',
      operationId: 'getStats',
      tag: 'stats',
      summary: 'Totals: events by outcome and reason, dead letters, stock rows, warehouses, products, status changes',
      description:
        'Counts scan whole tables, so the answer is cached: it may be up to API_CACHE_TTL_MS (default 1000 ms) plus one ' +
        'read older than the request, and concurrent requests share one computation.',
      responses: { 200: { description: 'The totals.', schema: statsSchema, name: 'Stats' } },
    },
    async (ctx) => {
      ctx.body = await cache.get('all', () => loadStats(deps));
    },
  );
}
