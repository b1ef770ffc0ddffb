import type { z } from 'zod';
import type { Database } from '../db.js';
import type { Movement } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { keysetSql } from '../keyset-sql.js';
import type { movementState } from '../schemas/resources.js';
import { timeConditions, type TimeRange } from './events-query.js';

/**
 * Pages of movements: by movement id, or with a time range by `moved_at` (departure time, else
 * arrival time: a column the database generates) then id. Access paths: a product
 * (movements_product_idx, gives the id order), in_transit and arrived (partial indexes, give the
 * id order), a time range (movements_moved_at_idx, gives the time order), a warehouse on either
 * side (movements_source_idx OR movements_destination_idx, a bitmap: no order). completed is most
 * rows: a filter. More than one path, or one that does not give the order, is fenced
 * (api/keyset-sql.ts). moved_at holds whole milliseconds (event times), so the cursor carries it.
 */

export interface MovementFilters {
  warehouseId?: string | undefined;
  productId?: string | undefined;
  state?: z.output<typeof movementState> | undefined;
  movedAt?: TimeRange | undefined;
}

const MOVEMENT_COLUMNS = Prisma.sql`movement_id AS "movementId", product_id AS "productId", source_warehouse_id AS "sourceWarehouseId",
  departure_message_id AS "departureMessageId", departed_at AS "departedAt", quantity_sent AS "quantitySent",
  destination_warehouse_id AS "destinationWarehouseId", arrival_message_id AS "arrivalMessageId", arrived_at AS "arrivedAt",
  quantity_received AS "quantityReceived", created_at AS "createdAt", updated_at AS "updatedAt", moved_at AS "movedAt"`;

const STATE: Record<z.output<typeof movementState>, Prisma.Sql> = {
  in_transit: Prisma.sql`departure_message_id IS NOT NULL AND arrival_message_id IS NULL`,
  arrived: Prisma.sql`departure_message_id IS NULL AND arrival_message_id IS NOT NULL`,
  completed: Prisma.sql`departure_message_id IS NOT NULL AND arrival_message_id IS NOT NULL`,
};

/** Up to `take` movements after `after` ([movementId], or [movedAt ISO, movementId] with a time range). */
export async function readMovements(db: Database, filters: MovementFilters, after: string[] | undefined, take: number): Promise<Movement[]> {
  const where: Prisma.Sql[] = [];
  if (filters.warehouseId) where.push(Prisma.sql`(source_warehouse_id = ${filters.warehouseId}::uuid OR destination_warehouse_id = ${filters.warehouseId}::uuid)`);
  if (filters.productId) where.push(Prisma.sql`product_id = ${filters.productId}::uuid`);
  if (filters.state) where.push(STATE[filters.state]);
  where.push(...timeConditions('moved_at', filters.movedAt));
  const timed = filters.movedAt !== undefined;
  const paths: { ordered: boolean }[] = [];
  if (filters.warehouseId) paths.push({ ordered: false });
  if (filters.productId) paths.push({ ordered: !timed });
  if (filters.state === 'in_transit' || filters.state === 'arrived') paths.push({ ordered: !timed });
  if (timed) paths.push({ ordered: true });
  const cursor = after?.map((value, index) => (timed && index === 0 ? Prisma.sql`${value}::timestamptz` : Prisma.sql`${value}::uuid`));
  const sql = keysetSql({
    columns: MOVEMENT_COLUMNS,
    table: 'movements',
    where,
    orderBy: timed ? ['moved_at', 'movement_id'] : ['movement_id'],
    direction: 'asc',
    after: cursor,
    fence: paths.length > 1 || (paths.length === 1 && !paths[0]!.ordered),
    take,
  });
  return db.$queryRaw<Movement[]>(sql);
}
