import { badRequest } from './problem.js';

/**
 * Opaque keyset cursors: base64url of `[list, ...keyValues]`. The list name stops a cursor of one
 * list from being replayed on another; the key values are the last row's keyset columns, so the
 * next page starts strictly after it and rows inserted meanwhile never cause gaps or repeats.
 */

type KeyValue = string;

export function encodeCursor(list: string, values: KeyValue[]): string {
  return Buffer.from(JSON.stringify([list, ...values])).toString('base64url');
}

/**
 * Decodes a cursor of `list` with `arity` key values, each checked by `check`.
 *
 * @throws 400 problem naming the `cursor` parameter on anything else
 */
export function decodeCursor(cursor: string, list: string, arity: number, check: ((value: string) => boolean) | ((value: string) => boolean)[]): string[] {
  const fail = () => badRequest([{ in: 'query', name: 'cursor', reason: 'is not a cursor of this list (use nextCursor as given)' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw fail();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw fail();
  }
  if (!Array.isArray(decoded) || decoded.length !== arity + 1 || decoded[0] !== list) throw fail();
  const values = decoded.slice(1) as unknown[];
  const checkOf = (index: number) => (Array.isArray(check) ? check[index] : check);
  if (!values.every((value, index): value is string => typeof value === 'string' && checkOf(index)?.(value) === true)) throw fail();
  return values;
}

/**
 * The name a cursor carries for one list in one order: `base`, plus the ordering variant and
 * `desc` when they are not the default, so a cursor of one order is refused by another.
 */
export function cursorList(base: string, variant: string | undefined, direction: 'asc' | 'desc'): string {
  return [base, variant, direction === 'desc' ? 'desc' : undefined].filter(Boolean).join(':');
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const isUuid = (value: string): boolean => UUID.test(value);
/** An instant as toISOString() writes it (what a time-ordered cursor carries). */
export const isIsoInstant = (value: string): boolean => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) && !Number.isNaN(Date.parse(value));
/** A bigint id as decimal text, within PostgreSQL's bigint. */
export const isBigintId = (value: string): boolean => /^\d{1,19}$/.test(value) && BigInt(value) <= 9_223_372_036_854_775_807n;

/**
 * Cuts a keyset page from `rows`, read with `take: limit + 1`: the first `limit` rows, and the
 * cursor of the last one when the extra row shows that more follow (null on the last page).
 */
export function keysetPage<Row>(rows: Row[], limit: number, list: string, keyOf: (row: Row) => KeyValue[]): { page: Row[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list, keyOf(last)) : null };
}
