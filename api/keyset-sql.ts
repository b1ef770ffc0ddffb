import { Prisma } from './generated/prisma/client.js';

/**
 * One keyset page of a list, as SQL run through Prisma's `$queryRaw` (same client, same pool). The
 * lists are written in SQL rather than with Prisma's query builder for three measured reasons
 * (api/__tests__/query-plans.test.ts shows each with EXPLAIN):
 *
 * 1. Enum filters. Prisma sends `status = CAST($1::text AS stock_status)`, a cast PostgreSQL
 *    evaluates per row instead of folding into a constant, so it can never prove that a query
 *    fits a partial index (stock_not_available_idx, events_rejected_seq_idx): `status=low` walked
 *    the whole primary key. Here a parameter is typed as the enum itself (`$1::stock_status`).
 * 2. Keyset starts. A row comparison `(time, id) > ($t, $id)` is the start of an index range scan;
 *    Prisma's `cursor` expands it into an OR the planner can only apply as a filter while it walks
 *    the index from the beginning, so page N read N pages. Times set by now() (`received_at`,
 *    `changed_at`) carry microseconds a JavaScript Date cannot hold, so for them the cursor is the
 *    row's id and the statement reads the time back: `((SELECT time FROM t WHERE id = $id), $id)`.
 * 3. Correlated filters. With `ORDER BY ... LIMIT`, PostgreSQL may walk the index that gives the
 *    order and filter as it goes, assuming matching rows are spread evenly; when they are not (a
 *    warehouse with no departures in the window) it reads the whole window or table for a page.
 *    When a request narrows by two access paths (say a warehouse and a time range), `fence` plans
 *    the filtered rows without the limit (`OFFSET 0` keeps PostgreSQL from pushing it down), so
 *    the planner compares the full cost of each index, which its statistics estimate well, and
 *    reads the smaller set; a top-N sort then cuts the page.
 */

export type Direction = 'asc' | 'desc';

export interface KeysetSpec {
  /** Column list (aliased to the Prisma model's field names), without SELECT. */
  columns: Prisma.Sql;
  table: string;
  /** Filters, ANDed. */
  where: Prisma.Sql[];
  /** The order: columns that end with a unique key. */
  orderBy: string[];
  direction: Direction;
  /** The previous page's last row, one value (or scalar subquery) per `orderBy` column. */
  after?: Prisma.Sql[] | undefined;
  /** Plan the filtered rows without the limit, then sort (reason 3 above). */
  fence?: boolean;
  /** Rows to read: the page size plus one, to know whether another page follows. */
  take: number;
}

export function keysetSql(spec: KeysetSpec): Prisma.Sql {
  const direction = spec.direction === 'desc' ? 'DESC' : 'ASC';
  const conditions = [...spec.where];
  if (spec.after) {
    const columns = Prisma.raw(spec.orderBy.length === 1 ? spec.orderBy[0]! : `(${spec.orderBy.join(', ')})`);
    const values = spec.after.length === 1 ? spec.after[0]! : Prisma.sql`(${Prisma.join(spec.after, ', ')})`;
    conditions.push(Prisma.sql`${columns} ${Prisma.raw(spec.direction === 'desc' ? '<' : '>')} ${values}`);
  }
  const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
  const order = Prisma.raw(`ORDER BY ${spec.orderBy.map((column) => `${column} ${direction}`).join(', ')}`);
  if (spec.fence) {
    // The subquery keeps the table's own column names (aliased as the table), so the column list and the order read the same.
    return Prisma.sql`SELECT ${spec.columns} FROM (SELECT * FROM ${Prisma.raw(spec.table)} ${where} OFFSET 0) AS ${Prisma.raw(spec.table)} ${order} LIMIT ${spec.take}`;
  }
  return Prisma.sql`SELECT ${spec.columns} FROM ${Prisma.raw(spec.table)} ${where} ${order} LIMIT ${spec.take}`;
}

/** The cursor position of a row whose order is (time column, bigint id), read back by id. */
export function afterTimeAndId(table: string, time: string, id: string, after: bigint): Prisma.Sql[] {
  return [Prisma.sql`(SELECT ${Prisma.raw(time)} FROM ${Prisma.raw(table)} WHERE ${Prisma.raw(id)} = ${after}::bigint)`, Prisma.sql`${after}::bigint`];
}
