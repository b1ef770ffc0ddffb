import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { ProductWarehouses, StockRow } from '../api-types.js';
import { Empty, Failure, IdForm, Loading, MoreButton } from '../components.js';
import { formatCount, isUuid, STATUS_LABELS } from '../format.js';
import { usePaged } from '../hooks.js';
import { navigate } from '../navigation.js';
import { href } from '../route.js';
import { StockTable } from '../stock-table.js';
import { readStatusFilter, StatusChoice, type StatusFilter } from './status-filter.js';

/** Product: its warehouses with quantity and status, and the total over all of them. */

const PAGE = 100;

function ProductWarehouseList({ productId, status }: { productId: string; status: StatusFilter }) {
  const [totals, setTotals] = useState<Pick<ProductWarehouses, 'totalQuantity' | 'warehouseCount'>>();
  const list = usePaged<StockRow, ProductWarehouses>(
    (cursor, signal) => api.productStock(productId, { status: status === 'all' ? undefined : status, cursor, limit: PAGE }, signal),
    [productId, status],
    (page) => setTotals({ totalQuantity: page.totalQuantity, warehouseCount: page.warehouseCount }),
  );
  if (list.state === 'loading') return <Loading what="the product's warehouses" />;
  if (list.state === 'error') return <Failure what="the product's warehouses" error={list.error!} retry={list.retry} />;
  return (
    <>
      {totals && (
        <dl class="summary" data-product-totals>
          <div>
            <dt>Total quantity</dt>
            <dd class="big" data-total={totals.totalQuantity}>
              {formatCount(totals.totalQuantity)}
            </dd>
          </div>
          <div>
            <dt>Warehouses holding it</dt>
            <dd class="big">{formatCount(totals.warehouseCount)}</dd>
          </div>
        </dl>
      )}
      {list.items.length === 0 ? (
        <Empty>{status === 'all' ? 'No warehouse has a stock row for this product: no event has named it yet.' : `No warehouse has this product at ${STATUS_LABELS[status].toLowerCase()}.`}</Empty>
      ) : (
        <>
          <StockTable rows={list.items} caption="Warehouses holding this product" columns={['warehouse']} />
          <MoreButton more={list.more} loading={list.loadingMore} error={list.error} onClick={list.loadMore} what="warehouses" />
        </>
      )}
    </>
  );
}

export function ProductView({ params }: { params: URLSearchParams }) {
  const productId = (params.get('productId') ?? '').toLowerCase();
  const status = readStatusFilter(params);
  return (
    <>
      <IdForm key={productId} view="product" submit="Show warehouses" extra={{ status: status === 'all' ? null : status }} fields={[{ name: 'productId', label: 'Product id', value: productId }]} />
      <StatusChoice value={status} onChange={(value) => navigate(href('product', { productId, status: value === 'all' ? '' : value }))} />
      {isUuid(productId) ? (
        <ProductWarehouseList key={`${productId}/${status}`} productId={productId} status={status} />
      ) : productId ? (
        <p class="state error" role="alert">
          The product id in this link is not a UUID; correct it above.
        </p>
      ) : (
        <Empty>Paste a product id to see it across warehouses.</Empty>
      )}
    </>
  );
}
