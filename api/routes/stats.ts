import type { z } from 'zod';
import { REJECT_REASONS } from '../../lib/terms.js';
import { ReadCache } from '../cache.js';
import type { ApiDeps } from '../deps.js';
import { ResourceRouter } from '../openapi/route.js';
import { statsSchema } from '../schemas/resources.js';
import { readStats } from './stats-query.js';

/** Totals over the whole store, from running totals (stats-query.ts), cached like the point reads. */

type Stats = z.output<typeof statsSchema>;

async function loadStats(deps: ApiDeps): Promise<Stats> {
  const [{ totals, warehouses, products, statusChangesToday }, counter] = await Promise.all([
    readStats(deps.db),
    deps.db.statusChangeCounter.findUnique({ where: { singleton: true } }),
  ]);
  const total = (name: string): number => totals.get(name) ?? 0;
  const rejectedByReason = Object.fromEntries(REJECT_REASONS.map((reason) => [reason, total(`events:${reason}`)])) as Stats['events']['rejectedByReason'];
  const applied = total('events:applied');
  const rejected = Object.values(rejectedByReason).reduce((a, b) => a + b, 0);
  const byReason: Record<string, number> = {};
  for (const [name, value] of totals) if (name.startsWith('dead_letters:') && value > 0) byReason[name.slice('dead_letters:'.length)] = value;
  const instant = (name: string): string | null => (totals.has(name) ? new Date(total(name)).toISOString() : null);
  const stockRows = total('stock_rows');
  const available = total('stock_rows:available');
  const low = total('stock_rows:low');
  return {
    events: { total: applied + rejected, applied, rejected, rejectedByReason },
    deadLetters: { total: Object.values(byReason).reduce((a, b) => a + b, 0), byReason },
    stockRows,
    stockRowsByStatus: { available, low, out_of_stock: Math.max(0, stockRows - available - low) },
    movementsInTransit: total('movements:in_transit'),
    warehouses,
    products,
    statusChanges: Number(counter?.total ?? 0n),
    statusChangesToday,
    lastEventTime: instant('events:latest_event_time_ms'),
    lastReceivedAt: instant('events:last_received_at_ms'),
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
      summary: 'Totals: events by outcome and reason, dead letters, stock rows by status, movements in transit, warehouses, products, status changes',
      description:
        'Totals are kept as the processor writes (no table is counted per request). The answer is cached: it may be up to ' +
        'API_CACHE_TTL_MS (default 1000 ms) plus one read older than the request, and concurrent requests share one read.',
      responses: { 200: { description: 'The totals.', schema: statsSchema, name: 'Stats' } },
    },
    async (ctx) => {
      ctx.body = await cache.get('all', () => loadStats(deps));
    },
  );
}
