import { api } from './api.js';
import type { HistoryItem } from './api-types.js';

/**
 * The ledger rows of one (warehouse, product) for the stock chart and its table: the latest
 * HISTORY_MAX_ROWS rows with the stock right after each, as GET .../history serves them, in one
 * request. The API lists them newest first (`order=desc`, so the one page holds the latest rows,
 * not the oldest); the chart draws them oldest first.
 */

/** Rows one chart shows at most: the API's largest page (MAX_PAGE_SIZE), so one request. */
export const HISTORY_MAX_ROWS = 500;

export interface History {
  /** Oldest first, in ledger order (the order the stock changed in). */
  rows: HistoryItem[];
  /** False when the ledger has older rows than these. */
  complete: boolean;
}

export async function loadHistory(warehouseId: string, productId: string, signal?: AbortSignal): Promise<History> {
  const page = await api.history(warehouseId, productId, { order: 'desc', limit: HISTORY_MAX_ROWS }, signal);
  return { rows: [...page.items].reverse(), complete: page.nextCursor === null };
}
