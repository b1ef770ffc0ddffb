import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DEAD_LETTER_REASONS } from '../lib/event.js';
import { createRegistry, DATABASE_SECONDS_BUCKETS } from '../lib/metrics.js';
import { REJECT_REASONS } from '../lib/terms.js';
import { FLUSH_ERROR_KINDS } from './errors.js';

/** Why a batch was flushed: it filled, its time ran out, its partitions were revoked, or shutdown. */
export const FLUSH_REASONS = ['size', 'time', 'revoke', 'shutdown'] as const;
export type FlushReason = (typeof FLUSH_REASONS)[number];


/**
 * Every processor metric, on one registry. Names carry their unit; labels are small fixed sets
 * (reasons from fixed lists, partitions), never ids. Grafana panels use only these names.
 */
export function createProcessorMetrics(registry: Registry = createRegistry('processor')) {
  const registers = [registry];
  const metrics = {
    registry,
    eventsConsumed: new Counter({ name: 'wsm_processor_events_consumed_total', help: 'Messages read from the topic, valid or not.', registers }),
    eventsApplied: new Counter({ name: 'wsm_processor_events_applied_total', help: 'Events stored in the ledger with outcome applied.', registers }),
    eventsRejected: new Counter({
      name: 'wsm_processor_events_rejected_total',
      help: 'Events stored in the ledger with outcome rejected, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    eventsRedelivered: new Counter({
      name: 'wsm_processor_events_redelivered_total',
      help: 'Events ignored because their message id was already in the ledger (redelivery or producer duplicate).',
      registers,
    }),
    eventsConflicting: new Counter({
      name: 'wsm_processor_events_conflicting_total',
      help: 'Redelivered events whose content differs from the ledger row of their message id (the first occurrence wins; counted in redelivered too).',
      registers,
    }),
    skippedOffsets: new Counter({
      name: 'wsm_processor_skipped_offsets_total',
      help: 'Offsets never read because the log jumped past them (retention deleted unread messages); each jump is in the skipped_offsets table.',
      registers,
    }),
    deadLetters: new Counter({
      name: 'wsm_processor_dead_letters_total',
      help: 'Invalid messages sent to the dead-letter topic and table, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    statusChanges: new Counter({ name: 'wsm_processor_status_changes_total', help: 'Stock status changes committed.', registers }),
    notifications: new Counter({
      name: 'wsm_processor_notifications_total',
      help: 'Notifications published to the notification topic, by type.',
      labelNames: ['type'] as const,
      registers,
    }),
    notificationsUndelivered: new Counter({
      name: 'wsm_processor_notifications_undelivered_total',
      help: 'Notifications the broker did not acknowledge (lost announcements; the database has every change).',
      registers,
    }),
    batches: new Counter({
      name: 'wsm_processor_batches_total',
      help: 'Batches committed, by flush reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    // Records per batch: 1 to 200k, roughly doubling, so both trickles and bursts are visible.
    batchRecords: new Histogram({
      name: 'wsm_processor_batch_records',
      help: 'Records (valid and invalid) per committed batch.',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 20_000, 50_000, 100_000, 200_000],
      registers,
    }),
    copyDuration: new Histogram({
      name: 'wsm_processor_copy_duration_seconds',
      help: 'Time to COPY a batch into staging.',
      buckets: DATABASE_SECONDS_BUCKETS,
      registers,
    }),
    mergeDuration: new Histogram({
      name: 'wsm_processor_merge_duration_seconds',
      help: 'Time of the apply_batch call (fence, merge) for one batch.',
      buckets: DATABASE_SECONDS_BUCKETS,
      registers,
    }),
    flushDuration: new Histogram({
      name: 'wsm_processor_flush_duration_seconds',
      help: 'Time to flush a batch: begin, COPY, merge, commit.',
      buckets: DATABASE_SECONDS_BUCKETS,
      registers,
    }),
    // From the envelope's `time` to the commit: includes producer and broker time, so 10 ms to 10 min.
    endToEndLatency: new Histogram({
      name: 'wsm_processor_end_to_end_latency_seconds',
      help: 'Time from an event being produced (envelope time) to its batch committing.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 600],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'wsm_processor_consumer_lag_messages',
      help: 'Messages between the consumer position and the partition end, from librdkafka statistics.',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    inFlightRecords: new Gauge({ name: 'wsm_processor_in_flight_records', help: 'Records read but not yet committed.', registers }),
    paused: new Gauge({ name: 'wsm_processor_paused', help: '1 while consumption is paused (batch full or database unavailable).', registers }),
    stoppedPartitions: new Gauge({
      name: 'wsm_processor_stopped_partitions',
      help: 'Partitions stopped because their stored offset is past the log end, until an operator resets it (make reset-offsets).',
      registers,
    }),
    assignedPartitions: new Gauge({ name: 'wsm_processor_assigned_partitions', help: 'Partitions assigned to this instance.', registers }),
    dbErrors: new Counter({
      name: 'wsm_processor_db_errors_total',
      help: 'Failed batch flushes, by kind: transient (retried), data (bisected), fenced (dropped).',
      labelNames: ['kind'] as const,
      registers,
    }),
    dbRetries: new Counter({ name: 'wsm_processor_db_retries_total', help: 'Flush retries after a transient database error.', registers }),
  };
  // Zero every labelled series up front so dashboards and rate() see them before the first event.
  for (const reason of REJECT_REASONS) metrics.eventsRejected.inc({ reason }, 0);
  for (const reason of DEAD_LETTER_REASONS) metrics.deadLetters.inc({ reason }, 0);
  for (const reason of FLUSH_REASONS) metrics.batches.inc({ reason }, 0);
  for (const kind of FLUSH_ERROR_KINDS) metrics.dbErrors.inc({ kind }, 0);
  for (const type of ['stock.changed', 'stock.status_changed']) metrics.notifications.inc({ type }, 0);
  return metrics;
}

export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>;
