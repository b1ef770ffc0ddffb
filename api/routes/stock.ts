import { z } from 'zod';
import { decodeCursor, isUuid, keysetPage } from '../cursor.js';
import { ReadCache } from '../cache.js';
import type { ApiDeps } from '../deps.js';
import type { Prisma } from '../generated/prisma/client.js';
import { ResourceRouter } from '../openapi/route.js';
import { badRequest } from '../problem.js';
import { pageOf, pageQuery, quantityParam, uuid } from '../schemas/common.js';
import { productWarehousesSchema, stockSchema, stockStatus } from '../schemas/resources.js';
import { stockBody, unseenStockBody } from '../serialize.js';

/** Stock: one (warehouse, product), a warehouse's products, a product's warehouses, all rows. */

const TAG = 'stock';
const CURSOR = 'stock';
const errors = {
  400: { description: 'A parameter is invalid; `invalidParams` names it.' },
};

/** Keyset on the primary key (warehouse_id, product_id): every stock list pages in that order. */
function afterCursor(cursor: string | undefined): Prisma.StockWhereInput {
  if (!cursor) return {};
  const [warehouseId, productId] = decodeCursor(cursor, CURSOR, 2, isUuid) as [string, string];
  return { OR: [{ warehouseId: { gt: warehouseId } }, { warehouseId, productId: { gt: productId } }] };
}

async function stockPage(deps: ApiDeps, where: Prisma.StockWhereInput, limit: number) {
  const rows = await deps.db.stock.findMany({ where, orderBy: [{ warehouseId: 'asc' }, { productId: 'asc' }], take: limit + 1 });
  const { page, nextCursor } = keysetPage(rows, limit, CURSOR, (row) => [row.warehouseId, row.productId]);
  return { items: page.map(stockBody), nextCursor };
}

export function stockRouter(deps: ApiDeps): ResourceRouter {
  const cache = new ReadCache<z.output<typeof stockSchema>>('stock', deps.cacheTtlMs, deps.metrics);
  const resource = new ResourceRouter();

  resource.add(
    {
      method: 'get',
      path: '/api/warehouses/:warehouseId/products/:productId',
      operationId: 'getStock',
      tag: TAG,
      summary: 'Current stock of one product in one warehouse',
      description:
        'A (warehouse, product) pair that no event has touched answers 200 with quantity 0, status ' +
        '`out_of_stock` and `updatedAt: null` (not 404): for stock, "never seen" and "none" are the same answer. ' +
        `Served from the read cache: an answer may be up to API_CACHE_TTL_MS (default 1000 ms) plus one database read older than the request.`,
      params: z.strictObject({ warehouseId: uuid, productId: uuid }),
      responses: { 200: { description: 'The stock row.', schema: stockSchema, name: 'Stock' }, ...errors },
    },
    async (ctx, { params }) => {
      const warehouseId = params.warehouseId.toLowerCase();
      const productId = params.productId.toLowerCase();
      ctx.body = await cache.get(`${warehouseId}/${productId}`, async () => {
        const row = await deps.db.stock.findUnique({ where: { warehouseId_productId: { warehouseId, productId } } });
        return row ? stockBody(row) : unseenStockBody(warehouseId, productId);
      });
    },
  );

  resource.add(
    {
      method: 'get',
      path: '/api/warehouses/:warehouseId/products',
      operationId: 'listWarehouseStock',
      tag: TAG,
      summary: 'All stock rows of one warehouse',
      params: z.strictObject({ warehouseId: uuid }),
      query: z.strictObject({ status: stockStatus.optional().describe('Only rows with this status.'), ...pageQuery }),
      responses: { 200: { description: 'A page of stock rows, by product id.', schema: pageOf(stockSchema), name: 'StockPage' }, ...errors },
    },
    async (ctx, { params, query }) => {
      const where: Prisma.StockWhereInput = { AND: [{ warehouseId: params.warehouseId }, query.status ? { status: query.status } : {}, afterCursor(query.cursor)] };
      ctx.body = await stockPage(deps, where, query.limit);
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
      query: z.strictObject({ status: stockStatus.optional().describe('Only rows with this status (the total still counts every warehouse).'), ...pageQuery }),
      responses: { 200: { description: 'The total and a page of stock rows, by warehouse id.', schema: productWarehousesSchema, name: 'ProductWarehouses' }, ...errors },
    },
    async (ctx, { params, query }) => {
      const where: Prisma.StockWhereInput = { AND: [{ productId: params.productId }, query.status ? { status: query.status } : {}, afterCursor(query.cursor)] };
      const [page, totals] = await Promise.all([
        stockPage(deps, where, query.limit),
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
      summary: 'All stock rows, filtered by status and quantity range',
      query: z.strictObject({
        status: stockStatus.optional().describe('Only rows with this status.'),
        minQuantity: quantityParam.optional().describe('Only rows with at least this quantity.'),
        maxQuantity: quantityParam.optional().describe('Only rows with at most this quantity.'),
        ...pageQuery,
      }),
      responses: { 200: { description: 'A page of stock rows, by (warehouse id, product id).', schema: pageOf(stockSchema), name: 'StockPage' }, ...errors },
    },
    async (ctx, { query }) => {
      if (query.minQuantity !== undefined && query.maxQuantity !== undefined && query.minQuantity > query.maxQuantity) {
        throw badRequest([{ in: 'query', name: 'minQuantity', reason: 'must not be greater than maxQuantity' }]);
      }
      const quantity: Prisma.BigIntFilter = {};
      if (query.minQuantity !== undefined) quantity.gte = BigInt(query.minQuantity);
      if (query.maxQuantity !== undefined) quantity.lte = BigInt(query.maxQuantity);
      const where: Prisma.StockWhereInput = { AND: [query.status ? { status: query.status } : {}, { quantity }, afterCursor(query.cursor)] };
      ctx.body = await stockPage(deps, where, query.limit);
    },
  );

  return resource;
}
