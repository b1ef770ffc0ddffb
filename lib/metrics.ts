import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One Prometheus registry per service, with Node's default process metrics (CPU, memory, event
 * loop lag, GC) and a `service` label on every series. Each service's metrics factory
 * (processor/metrics.ts, api/metrics.ts) registers its own metrics on it.
 */
export function createRegistry(service: 'processor' | 'api'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}

/** Latency buckets (seconds) for database work: 1 ms to 30 s, dense where batches land (50 ms-2 s). */
export const DATABASE_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];
