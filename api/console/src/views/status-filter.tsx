import type { StockStatus } from '../api-types.js';
import { Choice } from '../components.js';
import { STATUS_LABELS } from '../format.js';

/** The status filter of the warehouse and product views: all rows, or one status. */

export type StatusFilter = StockStatus | 'all';

export function readStatusFilter(params: URLSearchParams): StatusFilter {
  const value = params.get('status');
  return value === 'available' || value === 'low' || value === 'out_of_stock' ? value : 'all';
}

export function StatusChoice({ value, onChange }: { value: StatusFilter; onChange: (value: StatusFilter) => void }) {
  return (
    <Choice<StatusFilter>
      legend="Status"
      name="status"
      value={value}
      options={[['all', 'All'], ...(Object.entries(STATUS_LABELS) as [StockStatus, string][])]}
      onChange={onChange}
    />
  );
}
