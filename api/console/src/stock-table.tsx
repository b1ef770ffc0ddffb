import type { StockRow } from './api-types.js';
import { IdLink, productHref, StatusBadge, stockHref, TableRegion, Time, warehouseHref } from './components.js';
import { formatCount } from './format.js';

/**
 * A table of stock rows, shared by the low-stock, warehouse and product views. On a phone each
 * row becomes a card (styles.css), each cell labelled by its column (`data-label`).
 */

export type StockColumn = 'warehouse' | 'product';

export function stockKey(row: Pick<StockRow, 'warehouseId' | 'productId'>): string {
  return `${row.warehouseId}/${row.productId}`;
}

/** `captionHidden`: the caption only for assistive technology, where a heading above says the same. */
export function StockTable({ rows, caption, columns, fresh, captionHidden = false }: { rows: StockRow[]; caption: string; columns: StockColumn[]; fresh?: ReadonlySet<string>; captionHidden?: boolean }) {
  return (
    <TableRegion label={caption}>
      <table class="stock-table">
        <caption class={captionHidden ? 'visually-hidden' : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.includes('warehouse') && <th scope="col">Warehouse</th>}
            {columns.includes('product') && <th scope="col">Product</th>}
            <th scope="col" class="number">
              Quantity
            </th>
            <th scope="col" class="status">
              Status
            </th>
            <th scope="col" class="time">
              Last change
            </th>
            <th scope="col" class="link">
              <span class="visually-hidden">History</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={stockKey(row)} data-stock={stockKey(row)} class={fresh?.has(stockKey(row)) ? 'fresh' : undefined}>
              {columns.includes('warehouse') && (
                <td data-label="Warehouse">
                  <IdLink id={row.warehouseId} to={warehouseHref(row.warehouseId)} />
                </td>
              )}
              {columns.includes('product') && (
                <td data-label="Product">
                  <IdLink id={row.productId} to={productHref(row.productId)} />
                </td>
              )}
              <td data-label="Quantity" class="number">
                {formatCount(row.quantity)}
              </td>
              <td data-label="Status">
                <StatusBadge status={row.status} />
              </td>
              <td data-label="Last change">
                <Time iso={row.updatedAt} />
              </td>
              <td>
                <a href={stockHref(row.warehouseId, row.productId)} aria-label={`History of product ${row.productId} in warehouse ${row.warehouseId}`}>
                  History
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
