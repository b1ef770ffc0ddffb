/**
 * What can go wrong when flushing a batch, and what the processor does about it:
 *
 * - {@link FencedError}: a partition's stored offset is already past the batch; a newer owner has
 *   applied those records. Drop the batch; never retry it.
 * - a data error: PostgreSQL refused the data itself (SQLSTATE class 22 data exception, 23
 *   integrity constraint, 54 program limit such as an oversized index row). Retrying the same
 *   batch cannot help: bisect it until the one bad record is found and dead-lettered.
 * - anything else (connection lost, server restarting, deadlock, out of connections) is transient:
 *   retry the same batch with jittered backoff while consumption stays paused. A transient error
 *   that keeps coming while the database answers other queries may still be the batch's own (a
 *   record that crashes a backend, or that our own code fails on): the flusher then bisects too
 *   (processor/flusher.ts), unless the error is one no record can cause ({@link mayBeTheRecords}).
 */

/** SQLSTATE raised by apply_batch when the fence fails (prisma/migrations/…_apply_batch_steps). */
export const FENCED_SQLSTATE = 'WSF01';

export class FencedError extends Error {
  override name = 'FencedError';
}

/** The flush error kinds: the `kind` label of wsm_processor_db_errors_total. */
export const FLUSH_ERROR_KINDS = ['transient', 'data', 'fenced'] as const;
export type FlushErrorKind = (typeof FLUSH_ERROR_KINDS)[number];

// https://www.postgresql.org/docs/current/errcodes-appendix.html
const DATA_CLASSES = new Set(['22', '23', '54']);
/**
 * Classes no record's content can raise: the deployment or the server's state. Bisecting on them
 * would dead-letter every record of a healthy stream (a missing grant, a full disk).
 * 25 transaction state, 28 authorization, 3D/3F missing database or schema, 40 rollback
 * (deadlock, serialization), 42 access rule or undefined object, 53 insufficient resources,
 * 55 object not in prerequisite state (lock not available), 57P operator intervention
 * (shutdown, cannot connect now), 58 system error (I/O).
 */
const ENVIRONMENT_CLASSES = new Set(['25', '28', '3D', '3F', '40', '42', '53', '55', '58']);

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Classifies an error thrown while flushing (see the module comment for what each kind means). */
export function classifyFlushError(error: unknown): FlushErrorKind {
  if (error instanceof FencedError) return 'fenced';
  const code = sqlState(error);
  if (code === FENCED_SQLSTATE) return 'fenced';
  if (code && DATA_CLASSES.has(code.slice(0, 2))) return 'data';
  return 'transient';
}

/** Whether a transient error could come from the batch's content (see the module comment). */
export function mayBeTheRecords(error: unknown): boolean {
  const code = sqlState(error);
  if (!code) return true;
  return !ENVIRONMENT_CLASSES.has(code.slice(0, 2)) && !code.startsWith('57P');
}
