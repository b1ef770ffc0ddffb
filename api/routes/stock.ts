import { z } from 'zod';
import { cursorList, decodeCursor, isBigintId, isUuid, keysetPage } from '../cursor.js';
import { BatchLoader } from '../batch-loader.js';
import { ReadCache } from '../cache.js';
import type { ApiDeps } from '../deps.js';
import { ResourceRouter } from '../openapi/route.js';
import { badRequest } from '../problem.js';
import { instantParam, orderParam, pageOf, pageQuery, quantityParam, uuid } from '../schemas/common.js';
import { historyItemSchema, productWarehousesSchema, stockSchema, stockStatus } from '../schemas/resources.js';
import { historyItemBody, stockBody, unseenStockBody } from '../serialize.js';
import { timeRange } from '../time-range.js';
import { readEvents } from './events-query.js';
import { readStock, readStockAsOf, readStockRows, stockKeyOf, type StockFilters, type StockKey } from './stock-query.js';

/** Stock: one (warehouse, product) now or as of an instant, its history, a warehouse's products, a product's warehouses, all rows. */

const TAG = 'stock';
const CURSOR = 'stock';
const HISTORY_CURSOR = 'history';
const errors = {
  400: { description: 'A parameter is invalid; `invalidParams` names it.' },
};

/** Keyset on the primary key (warehouse_id, product_id): every stock list pages in that order. */
async function stockPage(deps: ApiDeps, filters: StockFilters, cursor: string | undefined, limit: number) {
  const after = cursor ? (decodeCursor(cursor, CURSOR, 2, isUuid) as [string, string]) : undefined;
  const rows = await readStock(deps.db, filters, after, limit + 1);
  const { page, nextCursor } = keysetPage(rows, limit, CURSOR, (row) => [row.warehouseId, row.productId]);
  return { items: page.map(stockBody), nextCursor };
}

const quantityRange = {
  minQuantity: quantityParam.optional().describe('Only rows with at least this quantity.'),
  maxQuantity: quantityParam.optional().describe('Only rows with at most this quantity.'),
};

/** @throws 400 when the quantity range is empty by construction */
function checkQuantityRange(min: number | undefined, max: number | undefined): void {
  if (min !== undefined && max !== undefined && min > max) {
    throw badRequest([{ in: 'query', name: 'minQuantity', reason: 'must not be greater than maxQuantity' }]);
  }
}

export function stockRouter(deps: ApiDeps): ResourceRouter {
  // Cached as JSON text: a hit then costs no serialisation (api/cache.ts).
  const cache = new ReadCache<string>('stock', deps.cacheTtlMs, deps.metrics);
  const rows = new BatchLoader((keys: StockKey[]) => readStockRows(deps.db, keys), stockKeyOf);
  const resource = new ResourceRouter();

  resource.add(
    {
      method: 'get',
      path: '/api/warehouses/:warehouseId/products/:productId',
      operationId: 'getStock',
      tag: TAG,
      summary: 'Stock of one product in one warehouse, now or as of an instant',
      description:
        'A (warehouse, product) pair that no event has touched answers 200 with quantity 0, status ' +
        '`out_of_stock` and `updatedAt: null` (not 404): for stock, "never seen" and "none" are the same answer. ' +
        'With `asOf`, the stock right after the last event the processor applied at or before that instant (its ' +
        '`updatedAt` is when that event was stored), read from the ledger and the status log, never cached. ' +
        `Without it, served from the read cache: an answer may be up to API_CACHE_TTL_MS (default 1000 ms) plus one database read older than the request.`,
      params: z.strictObject({ warehouseId: uuid, productId: uuid }),
      query: z.strictObject({ asOf: instantParam.optional().describe('The stock as the processor had recorded it at this instant.') }),
      responses: { 200: { description: 'The stock row.', schema: stockSchema, name: 'Stock' }, ...errors },
    },
    async (ctx, { params, query }) => {
      const warehouseId = params.warehouseId.toLowerCase();
      const productId = params.productId.toLowerCase();
      if (query.asOf !== undefined) {
        ctx.body = (await readStockAsOf(deps.db, warehouseId, productId, query.asOf)) ?? unseenStockBody(warehouseId, productId);
        return;
      }
      const json = await cache.get(`${warehouseId}/${productId}`, async () => {
        const row = await rows.load({ warehouseId, productId });
        return JSON.stringify(row ? stockBody(row) : unseenStockBody(warehouseId, productId));
      });
      ctx.type = 'application/json';
      ctx.body = json;
    },
  );

  resource.add(
    {
      method: 'get',
      path: '/api/warehouses/:warehouseId/products/:productId/history',
      operationId: 'getStockHistory',
      tag: TAG,
      summary: 'The ledger of one product in one warehouse, with the stock after each event',
      description:
        'Every event of the pair in ledger order (the order the processor applied them, in which `stockAfter` is the ' +
        'running stock), newest first unless `order=asc`; rejected events are listed with their reason and leave ' +
        '`stockAfter` unchanged. `since`/`until` filter on the event time (data.timestamp), half-open [since, until).',
      params: z.strictObject({ warehouseId: uuid, productId: uuid }),
      query: z.strictObject({
        since: instantParam.optional().describe('Events whose event time is at or after this instant.'),
        until: instantParam.optional().describe('Events whose event time is before this instant.'),
        order: orderParam.default('desc'),
        ...pageQuery,
      }),
      responses: { 200: { description: 'A page of the pair\'s ledger rows.', schema: pageOf(historyItemSchema), name: 'StockHistoryPage' }, ...errors },
    },
    async (ctx, { params, query }) => {
      const eventTime = timeRange(query.since, query.until, 'since');
      const list = cursorList(HISTORY_CURSOR, undefined, query.order);
      const after = query.cursor ? BigInt(decodeCursor(query.cursor, list, 1, isBigintId)[0]!) : undefined;
      const filters = { warehouseId: params.warehouseId, productId: params.productId, eventTime };
      const rows = await readEvents(deps.db, filters, 'seq', query.order, after, query.limit + 1);
      const { page, nextCursor } = keysetPage(rows, query.limit, list, (row) => [row.seq.toString()]);
      ctx.body = { items: page.map(historyItemBody), nextCursor };
    },
  );

  resource.add(
    {
      method: 'get',
      path: '/api/warehouses/:warehouseId/products',
      operationId: 'listWarehouseStock',
      tag: TAG,
      summary: 'All stock rows of one warehouse',
      description: 'Pages through the warehouse\'s rows on the primary key; status and quantity filters apply within them.',
      params: z.strictObject({ warehouseId: uuid }),
      query: z.strictObject({ status: stockStatus.optional().describe('Only rows with this status.'), ...quantityRange, ...pageQuery }),
      responses: { 200: { description: 'A page of stock rows, by product id.', schema: pageOf(stockSchema), name: 'StockPage' }, ...errors },
    },
    async (ctx, { params, query }) => {
      checkQuantityRange(query.minQuantity, query.maxQuantity);
      const filters = { warehouseId: params.warehouseId, status: query.status, minQuantity: query.minQuantity, maxQuantity: query.maxQuantity };
      ctx.body = await stockPage(deps, filters, query.cursor, query.limit);
    },
  );

  resource.add(
    {
      method: 'get',
      path: '/api/products/:productId/warehouses',
      operationId: 'listProductStock',
      tag: TAG,
      summary: 'One product across warehouses, with the total',
      params: z.strictObject({ productId: uuid }),
      query: z.strictObject({
        status: stockStatus.optional().describe('Only rows with this status (the total still counts every warehouse).'),
        ...quantityRange,
        ...pageQuery,
      }),
      responses: { 200: { description: 'The total and a page of stock rows, by warehouse id.', schema: productWarehousesSchema, name: 'ProductWarehouses' }, ...errors },
    },
    async (ctx, { params, query }) => {
      checkQuantityRange(query.minQuantity, query.maxQuantity);
      const filters = { productId: params.productId, status: query.status, minQuantity: query.minQuantity, maxQuantity: query.maxQuantity };
      const [page, totals] = await Promise.all([
        stockPage(deps, filters, query.cursor, query.limit),
        deps.db.stock.aggregate({ where: { productId: params.productId }, _sum: { quantity: true }, _count: { _all: true } }),
      ]);
      ctx.body = {
        productId: params.productId.toLowerCase(),
        totalQuantity: Number(totals._sum.quantity ?? 0n),
        warehouseCount: totals._count._all,
        ...page,
      };
    },
  );

  resource.add(
    {
      method: 'get',
      path: '/api/stock',
      operationId: 'listStock',
      tag: TAG,
      summary: 'All stock rows, filtered by status (and quantity within low or out-of-stock rows)',
      description:
        'A quantity range here needs `status=low` or `status=out_of_stock`: those rows have an index of their own, ' +
        'while no index serves quantities over every row (each batch changes them, and such an index would slow every ' +
        'merge). For one warehouse or one product, /api/warehouses/{warehouseId}/products and ' +
        '/api/products/{productId}/warehouses take a quantity range with any status.',
      query: z.strictObject({
        status: stockStatus.optional().describe('Only rows with this status.'),
        ...quantityRange,
        ...pageQuery,
      }),
      responses: {
        200: { description: 'A page of stock rows, by (warehouse id, product id).', schema: pageOf(stockSchema), name: 'StockPage' },
        400: { description: 'A parameter is invalid, or a quantity range was asked of all rows; `invalidParams` names it.' },
      },
    },
    async (ctx, { query }) => {
      checkQuantityRange(query.minQuantity, query.maxQuantity);
      const ranged = query.minQuantity !== undefined || query.maxQuantity !== undefined;
      if (ranged && query.status !== 'low' && query.status !== 'out_of_stock') {
        throw badRequest([{
          in: 'query',
          name: query.minQuantity !== undefined ? 'minQuantity' : 'maxQuantity',
          reason:
            'a quantity range over all stock rows needs status=low or status=out_of_stock (no index serves quantities over every row); ' +
            'for one warehouse or product use /api/warehouses/{warehouseId}/products or /api/products/{productId}/warehouses',
        }]);
      }
      ctx.body = await stockPage(deps, { status: query.status, minQuantity: query.minQuantity, maxQuantity: query.maxQuantity }, query.cursor, query.limit);
    },
  );

  return resource;
}
