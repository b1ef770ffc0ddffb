import { Random } from '../generator/random.js';
import type { SampleIds } from './seed.js';
import { zipfSampler } from './zipf.js';

/**
 * What `make load` drives. The two hot point reads (one stock row, one movement) run against the
 * API and the bare baseline (load/api/bare-server.ts), each under two workloads:
 *
 * - `uniform`: every request takes a random sampled id that exists, except `unknownShare` random
 *   ids that do not (a 404 or an empty answer costs a query too). Over tens of thousands of rows
 *   ids rarely repeat within the read cache's 1 s window, so this measures the query path.
 * - `hot`: ids drawn Zipf-like (s = `zipfS`) from `hotKeys` of them: most requests go to a few
 *   keys, as when a dashboard polls the rows it shows. This is where the read cache pays.
 *
 * A warehouse's products and the stats are API-only (the bare server has no lists). Each run of a
 * scenario replays the same id sequence (`paths(seed)`), so every server gets the same keys.
 */
export type Workload = 'uniform' | 'hot';

export interface Scenario {
  name: string;
  /** The route, for the report. */
  route: string;
  workload: Workload;
  /** The bare server serves it too. */
  baseline: boolean;
  /** A fresh generator of request paths; the same seed gives the same sequence. */
  paths(seed: number): () => string;
}

export interface ScenarioOptions {
  unknownShare: number;
  hotKeys: number;
  zipfS: number;
}

export function buildScenarios(ids: SampleIds, options: ScenarioOptions): Scenario[] {
  const stockPath = (s: { warehouseId: string; productId: string }) => `/api/warehouses/${s.warehouseId}/products/${s.productId}`;
  const uniform = <T>(items: readonly T[], path: (item: T) => string, unknown: (random: Random) => string) => (seed: number) => {
    const random = new Random(seed);
    return () => (random.chance(options.unknownShare) ? unknown(random) : path(random.pick(items)));
  };
  const hot = <T>(items: readonly T[], path: (item: T) => string) => (seed: number) => {
    const keys = items.slice(0, Math.min(options.hotKeys, items.length));
    const draw = zipfSampler(keys.length, options.zipfS, new Random(seed));
    return () => path(keys[draw()]!);
  };
  const movementPath = (id: string) => `/api/movements/${id}`;
  return [
    {
      name: 'stock row',
      route: 'GET /api/warehouses/{w}/products/{p}',
      workload: 'uniform',
      baseline: true,
      paths: uniform(ids.stock, stockPath, (random) => stockPath({ warehouseId: random.uuid(), productId: random.uuid() })),
    },
    { name: 'stock row, hot keys', route: 'GET /api/warehouses/{w}/products/{p}', workload: 'hot', baseline: true, paths: hot(ids.stock, stockPath) },
    {
      name: 'movement',
      route: 'GET /api/movements/{id}',
      workload: 'uniform',
      baseline: true,
      paths: uniform(ids.movements, movementPath, (random) => movementPath(random.uuid())),
    },
    { name: 'movement, hot keys', route: 'GET /api/movements/{id}', workload: 'hot', baseline: true, paths: hot(ids.movements, movementPath) },
    {
      name: 'warehouse products',
      route: 'GET /api/warehouses/{w}/products',
      workload: 'uniform',
      baseline: false,
      paths: uniform(ids.warehouses, (id) => `/api/warehouses/${id}/products`, (random) => `/api/warehouses/${random.uuid()}/products`),
    },
    { name: 'stats', route: 'GET /api/stats', workload: 'hot', baseline: false, paths: () => () => '/api/stats' },
  ];
}
