import { api } from './api.js';
import type { LedgerEvent } from './api-types.js';

/**
 * The ledger rows of one (warehouse, product), for the stock chart and its table: every row with
 * the stock right after it, oldest first, read page by page up to HISTORY_MAX_ROWS.
 */

/** Rows one chart shows at most: 4 requests of 500, and an SVG of that many points stays smooth. */
export const HISTORY_MAX_ROWS = 2000;

export interface History {
  rows: LedgerEvent[];
  /** False when the ledger has more rows than were read. */
  complete: boolean;
}

export async function loadHistory(warehouseId: string, productId: string, signal?: AbortSignal): Promise<History> {
  const rows: LedgerEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.events({ warehouseId, productId, limit: 500, cursor }, signal);
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && rows.length < HISTORY_MAX_ROWS);
  return { rows, complete: cursor === undefined };
}
