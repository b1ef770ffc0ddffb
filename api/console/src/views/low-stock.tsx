import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Page, StatusChange, StockRow, StockStatus } from '../api-types.js';
import { Choice, Empty, Failure, IdForm, Loading, MoreButton } from '../components.js';
import { formatCount, isUuid, plural, shortId, STATUS_LABELS } from '../format.js';
import { usePaged, usePolling, useStatusFeed } from '../hooks.js';
import { navigate } from '../navigation.js';
import { href } from '../route.js';
import { stockKey, StockTable } from '../stock-table.js';

/**
 * Low stock: the rows at `out_of_stock` and at `low`, each status its own paged list, filtered by
 * warehouse and/or product, kept current by the live feed: a row that changes into a status joins
 * its list at the top (highlighted), a row that leaves it goes.
 */

const PAGE = 100;
type Filter = 'both' | 'out_of_stock' | 'low';
const WATCHED: StockStatus[] = ['out_of_stock', 'low'];

interface Filters {
  warehouseId?: string;
  productId?: string;
}

/** One status's rows through the narrowest route the filters allow. */
function loadRows(status: StockStatus, filters: Filters, cursor: string | undefined, signal: AbortSignal): Promise<Page<StockRow>> {
  const { warehouseId, productId } = filters;
  if (warehouseId && productId) {
    return api.stock(warehouseId, productId, signal).then((row) => ({ items: row.status === status && row.updatedAt ? [row] : [], nextCursor: null }));
  }
  if (warehouseId) return api.warehouseStock(warehouseId, { status, cursor, limit: PAGE }, signal);
  if (productId) return api.productStock(productId, { status, cursor, limit: PAGE }, signal);
  return api.allStock({ status, cursor, limit: PAGE }, signal);
}

function matches(change: StatusChange, filters: Filters): boolean {
  return (!filters.warehouseId || change.warehouseId === filters.warehouseId) && (!filters.productId || change.productId === filters.productId);
}

function StatusSection({ status, filters, total }: { status: StockStatus; filters: Filters; total: number | undefined }) {
  const list = usePaged<StockRow>((cursor, signal) => loadRows(status, filters, cursor, signal), [status, filters.warehouseId, filters.productId]);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  useStatusFeed((changes) => {
    const relevant = changes.filter((c) => matches(c, filters) && (c.status === status || c.previousStatus === status));
    if (relevant.length === 0) return;
    // Oldest first, so the newest change of a key decides where it ends up.
    const ordered = [...relevant].reverse();
    list.setItems((items) => {
      let next = items;
      for (const change of ordered) {
        const key = stockKey(change);
        next = next.filter((row) => stockKey(row) !== key);
        if (change.status === status) {
          next = [{ warehouseId: change.warehouseId, productId: change.productId, quantity: change.quantity, status, updatedAt: change.changedAt, lastMessageId: change.messageId }, ...next];
        }
      }
      return next;
    });
    setFresh(new Set(ordered.filter((c) => c.status === status).map(stockKey)));
  });

  const title = STATUS_LABELS[status];
  const count = total !== undefined ? plural(total, 'row') : `${formatCount(list.items.length)}${list.more ? '+' : ''} shown`;
  return (
    <section aria-labelledby={`section-${status}`} data-section={status}>
      <h2 id={`section-${status}`}>
        {title} <span class="count">{count}</span>
      </h2>
      {list.state === 'loading' ? (
        <Loading what={`${title.toLowerCase()} rows`} />
      ) : list.state === 'error' ? (
        <Failure what={`${title.toLowerCase()} rows`} error={list.error!} retry={list.retry} />
      ) : list.items.length === 0 ? (
        <Empty>No stock row is {title.toLowerCase()}{filters.warehouseId || filters.productId ? ' for this filter' : ''} right now. Rows that become {title.toLowerCase()} appear here live.</Empty>
      ) : (
        <StockTable rows={list.items} caption={status === 'low' ? 'Stock rows at low' : 'Stock rows out of stock'} columns={['warehouse', 'product']} fresh={fresh} captionHidden />
      )}
      <MoreButton more={list.more} loading={list.loadingMore} error={list.state === 'ready' ? list.error : undefined} onClick={list.loadMore} what={`${title.toLowerCase()} rows`} />
    </section>
  );
}

export function LowStockView({ params }: { params: URLSearchParams }) {
  const warehouseId = params.get('warehouseId') ?? '';
  const productId = params.get('productId') ?? '';
  const filter = (['out_of_stock', 'low'].includes(params.get('status') ?? '') ? params.get('status') : 'both') as Filter;
  const invalid = [warehouseId, productId].some((id) => id && !isUuid(id));
  const filters: Filters = { warehouseId: warehouseId || undefined, productId: productId || undefined };
  const unfiltered = !warehouseId && !productId;
  // The unfiltered totals, kept current like the overview's (the lists themselves are live).
  const stats = usePolling((signal) => api.stats(signal), 5000);
  const [announcement, setAnnouncement] = useState('');
  useStatusFeed((changes) => {
    stats.refresh();
    const watched = changes.filter((c) => matches(c, filters) && (WATCHED.includes(c.status) || WATCHED.includes(c.previousStatus)));
    if (watched.length === 1) {
      const c = watched[0]!;
      setAnnouncement(`Product ${shortId(c.productId)} in warehouse ${shortId(c.warehouseId)} is now ${STATUS_LABELS[c.status].toLowerCase()} (${formatCount(c.quantity)}).`);
    } else if (watched.length > 1) setAnnouncement(`${watched.length} stock rows changed status.`);
  });
  const totals = unfiltered ? stats.data?.stockRowsByStatus : undefined;
  const keep = (extra: Record<string, string>) => href('low-stock', { warehouseId, productId, status: filter === 'both' ? '' : filter, ...extra });

  return (
    <>
      <IdForm
        key={`${warehouseId}/${productId}`}
        view="low-stock"
        submit="Filter"
        extra={{ status: filter === 'both' ? null : filter }}
        fields={[
          { name: 'warehouseId', label: 'Warehouse id (optional)', value: warehouseId, optional: true },
          { name: 'productId', label: 'Product id (optional)', value: productId, optional: true },
        ]}
      />
      <Choice<Filter>
        legend="Show"
        name="status"
        value={filter}
        options={[
          ['both', 'Low and out of stock'],
          ['out_of_stock', 'Out of stock'],
          ['low', 'Low'],
        ]}
        onChange={(value) => navigate(keep({ status: value === 'both' ? '' : value }))}
      />
      {!unfiltered && (
        <p>
          <a href={keep({ warehouseId: '', productId: '' })}>Clear the id filters</a>
        </p>
      )}
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {invalid ? (
        <p class="state error" role="alert">
          The ids in this link are not UUIDs; correct them above.
        </p>
      ) : (
        WATCHED.filter((status) => filter === 'both' || filter === status).map((status) => (
          <StatusSection key={`${status}/${warehouseId}/${productId}`} status={status} filters={filters} total={totals?.[status]} />
        ))
      )}
    </>
  );
}
