import type { Database } from './db.js';
import type { ApiMetrics } from './metrics.js';
import type { StatusChangeHub } from './status-hub.js';

/** Publishes one message; the API's POST /api/events uses it (lib/kafka/producer.ts in production). */
export interface Publisher {
  /** Resolves once the broker acknowledged the message. */
  publish(topic: string, key: string, value: Buffer): Promise<void>;
}

/** Everything the routes need, built once by server.ts (or a test) and passed to createApp. */
export interface ApiDeps {
  db: Database;
  metrics: ApiMetrics;
  /** The shared LISTEN connection that feeds the SSE stream. */
  statusHub: StatusChangeHub;
  /** Read-cache staleness bound; 0 disables the cache. */
  cacheTtlMs: number;
  /** Enables POST /api/events when set. */
  writeToken?: string | undefined;
  /** Topic POST /api/events publishes to (KAFKA_TOPIC). */
  topic: string;
  /** Needed when writeToken is set. */
  publisher?: Publisher | undefined;
  /** The console bundle's directory; default api/console/dist (routes/console.ts). */
  consoleDir?: string;
  /** How long /ready waits for the database; 2 s by default. */
  readyTimeoutMs?: number;
}
