/**
 * Terminology, shared by the processor, the API, the SQL and the tests.
 *
 * - **event**: one goods movement report, a `departure` (goods left a warehouse) or an `arrival`
 *   (goods were received). Carried as a CloudEvents-style JSON envelope (lib/event.ts).
 * - **message**: the Kafka record that carries one event; its envelope `id` is the *message id*.
 * - **record**: a message the processor has consumed and decoded: a valid event with where it came
 *   from (topic, partition, offset), or a *dead letter* with the reason it is invalid.
 * - **batch**: the records accumulated until `BATCH_MAX_RECORDS` records or `BATCH_MAX_WAIT_MS`,
 *   plus each partition's first and next offset.
 * - **flush**: writing one batch: COPY into staging, *merge*, commit, then Kafka offset commit.
 * - **merge**: the one SQL call (`apply_batch`) that turns a staged batch into ledger rows, stock,
 *   movements and status changes, and moves the stored offsets.
 * - **ledger**: the `events` table: every valid event once, with its *outcome*, `applied` or
 *   `rejected` with a *reject reason*.
 * - **stock**: current quantity per (warehouse, product); never below zero.
 * - **movement**: the departure and the arrival that share a `movement_id`, joined in one row.
 * - **status**: a stock row's `out_of_stock` (0), `low` (at or below the threshold) or `available`.
 * - **fence**: the check that a batch starts at or after its partitions' stored offsets, so a
 *   partition's old owner cannot apply a batch its new owner has already moved past.
 */

/** Outcome of an event in the ledger. */
export const EVENT_OUTCOMES = ['applied', 'rejected'] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

/** Why a valid event had no stock effect. */
export const REJECT_REASONS = ['insufficient_stock', 'duplicate_movement_event'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Status of a stock row. */
export const STOCK_STATUSES = ['available', 'low', 'out_of_stock'] as const;
export type StockStatus = (typeof STOCK_STATUSES)[number];

/** A movement is `in_transit` (departure only), `arrived` (arrival only) or `completed`. */
export const MOVEMENT_STATES = ['in_transit', 'arrived', 'completed'] as const;
export type MovementState = (typeof MOVEMENT_STATES)[number];

/** Status of a quantity, the same rule as the SQL function stock_status_for. */
export function stockStatusFor(quantity: number, lowThreshold: number): StockStatus {
  if (quantity <= 0) return 'out_of_stock';
  if (quantity <= lowThreshold) return 'low';
  return 'available';
}
