import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { HistoryItem } from '../api-types.js';
import { StockChart } from '../chart.js';
import { Empty, Failure, IdForm, IdLink, Loading, movementHref, productHref, StatusBadge, stockHref, TableRegion, Time, warehouseHref } from '../components.js';
import { formatAgo, formatCount, isUuid, plural, reasonLabel, shortId } from '../format.js';
import { loadHistory, HISTORY_MAX_ROWS } from '../history.js';
import { useResource } from '../hooks.js';
import { readRecent, rememberRecent, type RecentPair } from '../recent.js';

/**
 * Stock: one (warehouse, product): quantity, status and last change now, and the stock after
 * each of its latest HISTORY_MAX_ROWS ledger rows over time (chart and table, from the API's
 * history route), rejected events marked. Pairs looked up are remembered in this browser and
 * offered again.
 */

/** Ledger rows the table shows before "Show all". */
const TABLE_ROWS = 50;

function LedgerTable({ rows }: { rows: readonly HistoryItem[] }) {
  const [all, setAll] = useState(false);
  const newestFirst = [...rows].reverse();
  const shown = all ? newestFirst : newestFirst.slice(0, TABLE_ROWS);
  return (
    <>
      <TableRegion label="Ledger rows">
        <table class="ledger-table">
          <caption>Ledger rows, newest first{shown.length < rows.length ? ` (the latest ${shown.length} of ${rows.length})` : ''}</caption>
          <thead>
            <tr>
              <th scope="col" class="number">
                Seq
              </th>
              <th scope="col">Event time</th>
              <th scope="col">Event</th>
              <th scope="col" class="number">
                Quantity
              </th>
              <th scope="col">Outcome</th>
              <th scope="col" class="number">
                Stock after
              </th>
              <th scope="col">Movement</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={row.seq} data-seq={row.seq} class={row.outcome === 'rejected' ? 'rejected' : undefined}>
                <td data-label="Seq" class="number">
                  {row.seq}
                </td>
                <td data-label="Event time">
                  <Time iso={row.eventTime} />
                </td>
                <td data-label="Event">{row.event}</td>
                <td data-label="Quantity" class="number">
                  {formatCount(row.quantity)}
                </td>
                <td data-label="Outcome">{row.outcome === 'applied' ? 'applied' : `rejected: ${reasonLabel(row.rejectReason ?? '')}`}</td>
                <td data-label="Stock after" class="number">
                  {formatCount(row.stockAfter)}
                </td>
                <td data-label="Movement">
                  <IdLink id={row.movementId} to={movementHref(row.movementId)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
      {shown.length < rows.length && (
        <p>
          <button type="button" onClick={() => setAll(true)}>
            Show all {formatCount(rows.length)} rows
          </button>
        </p>
      )}
    </>
  );
}

function StockDetail({ warehouseId, productId, onLoaded }: { warehouseId: string; productId: string; onLoaded: () => void }) {
  const [resource, reload] = useResource(
    async (signal) => {
      const [stock, history] = await Promise.all([api.stock(warehouseId, productId, signal), loadHistory(warehouseId, productId, signal)]);
      return { stock, history };
    },
    [warehouseId, productId],
  );
  const loaded = resource.state === 'ready';
  useEffect(() => {
    if (loaded) onLoaded();
  }, [loaded]);
  if (resource.state === 'loading') return <Loading what="the stock and its ledger" />;
  if (resource.state === 'error') return <Failure what="the stock" error={resource.error} retry={reload} />;
  const { stock, history } = resource.data;
  const rejected = history.rows.filter((row) => row.outcome === 'rejected').length;
  return (
    <>
      <dl class="summary" data-stock-summary>
        <div>
          <dt>Quantity</dt>
          <dd class="big" data-quantity={stock.quantity}>
            {formatCount(stock.quantity)}
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={stock.status} />
          </dd>
        </div>
        <div>
          <dt>Last change</dt>
          <dd>
            <Time iso={stock.updatedAt} />
            {stock.updatedAt && <span class="note">{formatAgo(stock.updatedAt, Date.now())}</span>}
          </dd>
        </div>
        <div>
          <dt>Warehouse · product</dt>
          <dd>
            <IdLink id={warehouseId} to={warehouseHref(warehouseId)} /> · <IdLink id={productId} to={productHref(productId)} />
          </dd>
        </div>
      </dl>
      <section aria-labelledby="history-title">
        <h2 id="history-title">
          Stock over time{' '}
          <span class="count">
            {history.complete ? '' : 'the latest '}
            {plural(history.rows.length, 'ledger row')}
            {rejected ? `, ${formatCount(rejected)} rejected` : ''}
          </span>
        </h2>
        {history.rows.length === 0 ? (
          <Empty>No event has touched this product in this warehouse: its stock is 0 and it has no ledger rows.</Empty>
        ) : (
          <>
            {!history.complete && (
              <p class="warning" data-history-limit={HISTORY_MAX_ROWS}>
                The ledger has more than {formatCount(HISTORY_MAX_ROWS)} rows for this pair; the chart and the table show the latest {formatCount(history.rows.length)} events.
              </p>
            )}
            <StockChart rows={history.rows} label={`Product ${shortId(productId)} in warehouse ${shortId(warehouseId)}`} />
            <LedgerTable rows={history.rows} />
          </>
        )}
      </section>
    </>
  );
}

export function StockView({ params }: { params: URLSearchParams }) {
  const warehouseId = (params.get('warehouseId') ?? '').toLowerCase();
  const productId = (params.get('productId') ?? '').toLowerCase();
  const [recent, setRecent] = useState<RecentPair[]>(() => readRecent());
  const ready = isUuid(warehouseId) && isUuid(productId);
  return (
    <>
      <IdForm
        key={`${warehouseId}/${productId}`}
        view="stock"
        submit="Show stock"
        fields={[
          { name: 'warehouseId', label: 'Warehouse id', value: warehouseId },
          { name: 'productId', label: 'Product id', value: productId },
        ]}
      />
      {recent.length > 0 && (
        <nav class="recent" aria-label="Recent lookups">
          <h2>Recent</h2>
          <ul>
            {recent.map((pair) => (
              <li key={`${pair.warehouseId}/${pair.productId}`}>
                <a href={stockHref(pair.warehouseId, pair.productId)} aria-label={`Product ${pair.productId} in warehouse ${pair.warehouseId}`}>
                  product {shortId(pair.productId)}… in warehouse {shortId(pair.warehouseId)}…
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {ready ? (
        <StockDetail key={`${warehouseId}/${productId}`} warehouseId={warehouseId} productId={productId} onLoaded={() => setRecent(rememberRecent({ warehouseId, productId }))} />
      ) : warehouseId || productId ? (
        <p class="state error" role="alert">
          The ids in this link are not both UUIDs; correct them above.
        </p>
      ) : (
        <Empty>Paste a warehouse id and a product id to see the stock and how it moved.</Empty>
      )}
    </>
  );
}
