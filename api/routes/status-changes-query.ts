import { namedQuery, type Database } from '../db.js';
import type { StatusChange, StockStatus } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { afterTimeAndId, keysetSql, type Direction } from '../keyset-sql.js';
import type { TimeRange } from '../time-range.js';
import { timeConditions } from './events-query.js';

/**
 * The status-change log's pages: by id (commit order) without a time range, by changed_at then id
 * with one. Access paths: warehouseId (and productId) status_changes_stock_idx, which gives the
 * id order only for a pair; productId alone status_changes_product_idx (gives it); a time range
 * status_changes_changed_at_idx (gives the time order). status matches a third of the rows: a
 * filter. As for the ledger (events-query.ts), more than one path, or one that does not give the
 * order, is fenced. changed_at is now() of the writing transaction, with microseconds: the cursor
 * is the id (api/keyset-sql.ts).
 */

export interface StatusChangeFilters {
  warehouseId?: string | undefined;
  productId?: string | undefined;
  status?: StockStatus | undefined;
  changedAt?: TimeRange | undefined;
}

const CHANGE_COLUMNS = Prisma.sql`id, warehouse_id AS "warehouseId", product_id AS "productId", previous_status AS "previousStatus",
  status, quantity, message_id AS "messageId", changed_at AS "changedAt"`;

export async function readStatusChanges(db: Database, filters: StatusChangeFilters, direction: Direction, after: bigint | undefined, take: number): Promise<StatusChange[]> {
  const where: Prisma.Sql[] = [];
  if (filters.warehouseId) where.push(Prisma.sql`warehouse_id = ${filters.warehouseId}::uuid`);
  if (filters.productId) where.push(Prisma.sql`product_id = ${filters.productId}::uuid`);
  if (filters.status) where.push(Prisma.sql`status = ${filters.status}::stock_status`);
  where.push(...timeConditions('changed_at', filters.changedAt));
  const timed = filters.changedAt !== undefined;
  const paths = [filters.warehouseId ? 'warehouse' : filters.productId ? 'product' : undefined, timed ? 'time' : undefined].filter(Boolean);
  const ordered = (timed && paths[0] === 'time') || (!timed && (paths[0] === 'product' || (filters.warehouseId !== undefined && filters.productId !== undefined)));
  const cursor = after === undefined ? undefined : timed ? afterTimeAndId('status_changes', 'changed_at', 'id', after) : [Prisma.sql`${after}::bigint`];
  const sql = keysetSql({
    columns: CHANGE_COLUMNS,
    table: 'status_changes',
    where,
    orderBy: timed ? ['changed_at', 'id'] : ['id'],
    direction,
    after: cursor,
    fence: paths.length > 1 || (paths.length === 1 && !ordered),
    take,
  });
  return db.$queryRaw<StatusChange[]>(namedQuery('StatusChange', 'listStatusChanges', sql));
}
