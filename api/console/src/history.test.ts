import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api.js';
import type { HistoryItem, Page } from './api-types.js';
import { HISTORY_MAX_ROWS, loadHistory } from './history.js';

const W = '11111111-1111-4111-8111-111111111111';
const P = '22222222-2222-4222-8222-222222222222';

function row(seq: number, stockAfter: number): HistoryItem {
  return {
    seq,
    messageId: `m${seq}`,
    movementId: `v${seq}`,
    event: 'arrival',
    quantity: 1,
    eventTime: new Date(Date.UTC(2025, 1, 18, 0, seq)).toISOString(),
    receivedAt: new Date(Date.UTC(2025, 1, 18, 1, seq)).toISOString(),
    outcome: 'applied',
    rejectReason: null,
    stockAfter,
  };
}

/** Answers every request with `body` (status 200 unless told), and records the URLs asked for. */
function serve(body: unknown, status = 200): URL[] {
  const asked: URL[] = [];
  vi.stubGlobal('fetch', (input: string) => {
    asked.push(new URL(input, 'http://console.test'));
    return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  });
  return asked;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the stock chart\'s history', () => {
  it('reads the latest rows from the history route in one request, newest first', async () => {
    const asked = serve({ items: [row(9, 7), row(4, 5), row(2, 6)], nextCursor: null } satisfies Page<HistoryItem>);
    await loadHistory(W, P);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.pathname).toBe(`/api/warehouses/${W}/products/${P}/history`);
    expect(Object.fromEntries(asked[0]!.searchParams)).toEqual({ order: 'desc', limit: String(HISTORY_MAX_ROWS) });
  });

  it('hands the chart the rows oldest first, each with the stock the API says followed it', async () => {
    serve({ items: [row(9, 7), row(4, 5), row(2, 6)], nextCursor: null });
    const history = await loadHistory(W, P);
    expect(history.rows.map((r) => [r.seq, r.stockAfter])).toEqual([
      [2, 6],
      [4, 5],
      [9, 7],
    ]);
    expect(history.complete).toBe(true);
  });

  it('says when the ledger has older rows than the page holds', async () => {
    const rows = Array.from({ length: HISTORY_MAX_ROWS }, (_, i) => row(1000 - i, i));
    const asked = serve({ items: rows, nextCursor: 'more' });
    const history = await loadHistory(W, P);
    expect(asked).toHaveLength(1);
    expect(history.complete).toBe(false);
    expect(history.rows).toHaveLength(HISTORY_MAX_ROWS);
    expect(history.rows[0]!.seq).toBe(1000 - HISTORY_MAX_ROWS + 1);
    expect(history.rows.at(-1)!.seq).toBe(1000);
  });

  it('passes an empty ledger and an API error through for the view\'s empty and error states', async () => {
    serve({ items: [], nextCursor: null });
    expect(await loadHistory(W, P)).toEqual({ rows: [], complete: true });
    serve({ title: 'Service Unavailable', status: 503, detail: 'the database did not answer' }, 503);
    await expect(loadHistory(W, P)).rejects.toThrow(new ApiError(`/api/warehouses/${W}/products/${P}/history?order=desc&limit=${HISTORY_MAX_ROWS}`, 503, 'the database did not answer'));
  });
});
