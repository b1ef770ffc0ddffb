import type { DeadLetter, HistoryItem, LedgerEvent, Movement, Page, Problem, ProductWarehouses, Stats, StatusChange, StockRow, StockStatus } from './api-types.js';

/**
 * The console's only way to the data: the public API on this origin, the same routes and answers
 * as /openapi.json documents (no private route), so whatever the console shows, a script can read.
 */

/** A request that did not answer 2xx, or did not answer: what the error states show. */
export class ApiError extends Error {
  constructor(
    /** The path asked for, e.g. `/api/stats`. */
    readonly path: string,
    /** HTTP status; 0 when the API did not answer at all. */
    readonly status: number,
    /** The problem detail, or what went wrong on the way. */
    readonly detail: string,
  ) {
    super(status ? `${path} answered ${status}: ${detail}` : `${path}: ${detail}`);
    this.name = 'ApiError';
  }
}

/** Query parameters; undefined and empty values are left out. */
export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** GET a JSON body; throws ApiError with the problem's detail on any failure. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { accept: 'application/json' }, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(path, 0, 'the API did not answer (network error or the server is down)');
  }
  if (!response.ok) {
    let detail = response.statusText || 'error';
    try {
      const problem = (await response.json()) as Problem;
      detail = problem.detail ?? problem.title ?? detail;
    } catch {
      // Not problem+json (a proxy's page, say): the status text is all there is.
    }
    throw new ApiError(path, response.status, detail);
  }
  return (await response.json()) as T;
}

const id = encodeURIComponent;

/** The routes the console reads, one function each. */
export const api = {
  stats: (signal?: AbortSignal) => getJson<Stats>('/api/stats', signal),
  stock: (warehouseId: string, productId: string, signal?: AbortSignal) => getJson<StockRow>(`/api/warehouses/${id(warehouseId)}/products/${id(productId)}`, signal),
  allStock: (query: { status?: StockStatus; cursor?: string; limit?: number }, signal?: AbortSignal) => getJson<Page<StockRow>>(withQuery('/api/stock', query), signal),
  warehouseStock: (warehouseId: string, query: { status?: StockStatus; cursor?: string; limit?: number }, signal?: AbortSignal) =>
    getJson<Page<StockRow>>(withQuery(`/api/warehouses/${id(warehouseId)}/products`, query), signal),
  productStock: (productId: string, query: { status?: StockStatus; cursor?: string; limit?: number }, signal?: AbortSignal) =>
    getJson<ProductWarehouses>(withQuery(`/api/products/${id(productId)}/warehouses`, query), signal),
  movement: (movementId: string, signal?: AbortSignal) => getJson<Movement>(`/api/movements/${id(movementId)}`, signal),
  history: (warehouseId: string, productId: string, query: { order?: 'asc' | 'desc'; since?: string; until?: string; cursor?: string; limit?: number }, signal?: AbortSignal) =>
    getJson<Page<HistoryItem>>(withQuery(`/api/warehouses/${id(warehouseId)}/products/${id(productId)}/history`, query), signal),
  events: (query: { warehouseId?: string; productId?: string; movementId?: string; cursor?: string; limit?: number }, signal?: AbortSignal) =>
    getJson<Page<LedgerEvent>>(withQuery('/api/events', query), signal),
  deadLetters: (query: { reason?: string; cursor?: string; limit?: number }, signal?: AbortSignal) => getJson<Page<DeadLetter>>(withQuery('/api/dead-letters', query), signal),
  latestStatusChanges: (limit: number, signal?: AbortSignal) => getJson<Page<StatusChange>>(withQuery('/api/status-changes', { order: 'desc', limit }), signal),
};

/** The live stream of status changes (Server-Sent Events), resumable after `lastEventId`. */
export function statusStreamUrl(lastEventId?: number): string {
  return withQuery('/api/status-changes/stream', { lastEventId });
}
