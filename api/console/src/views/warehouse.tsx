import { api } from '../api.js';
import type { StockRow } from '../api-types.js';
import { Empty, Failure, IdForm, Loading, MoreButton } from '../components.js';
import { isUuid, STATUS_LABELS } from '../format.js';
import { usePaged } from '../hooks.js';
import { navigate } from '../navigation.js';
import { href } from '../route.js';
import { StockTable } from '../stock-table.js';
import { readStatusFilter, StatusChoice, type StatusFilter } from './status-filter.js';

/** Warehouse: its products with quantity and status, filtered by status. */

const PAGE = 100;

function WarehouseProducts({ warehouseId, status }: { warehouseId: string; status: StatusFilter }) {
  const list = usePaged<StockRow>(
    (cursor, signal) => api.warehouseStock(warehouseId, { status: status === 'all' ? undefined : status, cursor, limit: PAGE }, signal),
    [warehouseId, status],
  );
  if (list.state === 'loading') return <Loading what="the warehouse's products" />;
  if (list.state === 'error') return <Failure what="the warehouse's products" error={list.error!} retry={list.retry} />;
  if (list.items.length === 0) {
    return <Empty>{status === 'all' ? 'This warehouse has no stock rows: no event has named it yet.' : `No product of this warehouse is ${STATUS_LABELS[status].toLowerCase()}.`}</Empty>;
  }
  return (
    <>
      <StockTable rows={list.items} caption="Products of this warehouse" columns={['product']} />
      <MoreButton more={list.more} loading={list.loadingMore} error={list.error} onClick={list.loadMore} what="products" />
    </>
  );
}

export function WarehouseView({ params }: { params: URLSearchParams }) {
  const warehouseId = (params.get('warehouseId') ?? '').toLowerCase();
  const status = readStatusFilter(params);
  return (
    <>
      <IdForm key={warehouseId} view="warehouse" submit="Show products" extra={{ status: status === 'all' ? null : status }} fields={[{ name: 'warehouseId', label: 'Warehouse id', value: warehouseId }]} />
      <StatusChoice value={status} onChange={(value) => navigate(href('warehouse', { warehouseId, status: value === 'all' ? '' : value }))} />
      {isUuid(warehouseId) ? (
        <WarehouseProducts key={`${warehouseId}/${status}`} warehouseId={warehouseId} status={status} />
      ) : warehouseId ? (
        <p class="state error" role="alert">
          The warehouse id in this link is not a UUID; correct it above.
        </p>
      ) : (
        <Empty>Paste a warehouse id to list its products.</Empty>
      )}
    </>
  );
}
