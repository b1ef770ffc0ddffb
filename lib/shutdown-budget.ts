/**
 * How long each step of a service's shutdown may take, in one place. A container runtime sends
 * SIGTERM, then SIGKILL after its grace period (`stop_grace_period` in docker-compose.yml, 10 s
 * when unset; Kubernetes' terminationGracePeriodSeconds, 30 s when unset): each service's steps
 * must add up to less than that, or the kill lands mid-shutdown, after the last flush but before
 * the consumer left its group, say. lib/dev/__tests__/compose.test.ts checks docker-compose.yml's
 * grace periods against these totals.
 *
 * What is not done within its step is not lost: records not committed are redelivered from the
 * stored offsets, notifications not delivered are counted as undelivered.
 */

/** The Kafka clients' steps (lib/kafka), the same in every service. */
export const KAFKA_CLOSE_BUDGET_MS = {
  /** The consumer leaves its group (librdkafka's close: revoke, commit, LeaveGroup); usually well under 1 s. */
  leaveGroup: 5_000,
  /** The producer delivers what is still queued (notifications, dead letters, events). */
  producerFlush: 5_000,
  /** The producer's own disconnect once its queue is flushed or given up. */
  producerDisconnect: 2_000,
} as const;

/** processor/main.ts, in order: stop fetching and flush what is held, leave the group, flush the producer, close. */
export const PROCESSOR_SHUTDOWN_BUDGET_MS = {
  /**
   * The last flush (COPY, merge, commit), retried while the database recovers. A 10k-record batch
   * takes about 1.2 s (p50, `make bench`); 20 s leaves room for retries, not for an outage.
   */
  lastFlush: 20_000,
  ...KAFKA_CLOSE_BUDGET_MS,
  /** Database connections and the health server, which close in milliseconds when reachable. */
  closeConnections: 2_000,
} as const;

/** api/server.ts, in order: finish in-flight requests, flush the producer, close. */
export const API_SHUTDOWN_BUDGET_MS = {
  /** In-flight requests may finish (SSE streams end at once); then the rest are cut. */
  inFlightRequests: 10_000,
  producerFlush: KAFKA_CLOSE_BUDGET_MS.producerFlush,
  producerDisconnect: KAFKA_CLOSE_BUDGET_MS.producerDisconnect,
  closeConnections: 2_000,
} as const;

/** The sum of a budget's steps: the longest its shutdown takes. */
export function totalBudgetMs(budget: Readonly<Record<string, number>>): number {
  return Object.values(budget).reduce((sum, step) => sum + step, 0);
}
