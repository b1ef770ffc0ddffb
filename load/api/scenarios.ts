import { Random } from '../generator/random.js';
import type { SampleIds } from './seed.js';

/**
 * The endpoints `make load` drives: the reads operators make most (one stock row, one movement,
 * a warehouse's products, the dashboard's stats). Each request takes the next id from the sample,
 * with `unknownShare` of them replaced by ids that do not exist (404s cost a query too).
 */
export interface Scenario {
  name: string;
  /** The route, for the report. */
  route: string;
  nextPath(): string;
}

export function buildScenarios(ids: SampleIds, unknownShare: number, seed = 1): Scenario[] {
  const random = new Random(seed);
  const unknown = (): boolean => random.chance(unknownShare);
  return [
    {
      name: 'stock row',
      route: 'GET /api/warehouses/{w}/products/{p}',
      nextPath: () => {
        const s = unknown() ? { warehouseId: random.uuid(), productId: random.uuid() } : random.pick(ids.stock);
        return `/api/warehouses/${s.warehouseId}/products/${s.productId}`;
      },
    },
    {
      name: 'movement',
      route: 'GET /api/movements/{id}',
      nextPath: () => `/api/movements/${unknown() ? random.uuid() : random.pick(ids.movements)}`,
    },
    {
      name: 'warehouse products',
      route: 'GET /api/warehouses/{w}/products',
      nextPath: () => `/api/warehouses/${unknown() ? random.uuid() : random.pick(ids.warehouses)}/products`,
    },
    { name: 'stats', route: 'GET /api/stats', nextPath: () => '/api/stats' },
  ];
}
