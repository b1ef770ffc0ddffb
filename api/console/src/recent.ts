/**
 * The (warehouse, product) pairs a person looked up recently, newest first, kept in this browser
 * (localStorage) so the stock view offers them again. Storage is injected for tests; a browser
 * that refuses storage (private mode, quota) simply remembers nothing.
 */

export const RECENT_KEY = 'wsm.console.recentStock';
export const RECENT_MAX = 8;

export interface RecentPair {
  warehouseId: string;
  productId: string;
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function storage(): Store | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function readRecent(store: Store | undefined = storage()): RecentPair[] {
  try {
    const parsed: unknown = JSON.parse(store?.getItem(RECENT_KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    const isPair = (p: unknown): p is RecentPair => typeof (p as RecentPair | null)?.warehouseId === 'string' && typeof (p as RecentPair | null)?.productId === 'string';
    return parsed.filter(isPair).slice(0, RECENT_MAX);
  } catch {
    return [];
  }
}

/** Puts `pair` first (once), keeps RECENT_MAX, and returns the new list. */
export function rememberRecent(pair: RecentPair, store: Store | undefined = storage()): RecentPair[] {
  const list = [pair, ...readRecent(store).filter((p) => p.warehouseId !== pair.warehouseId || p.productId !== pair.productId)].slice(0, RECENT_MAX);
  try {
    store?.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Storage full or refused: the list lives for this page only.
  }
  return list;
}
