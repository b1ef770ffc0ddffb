/**
 * What can go wrong when flushing a batch, and what the processor does about it:
 *
 * - {@link FencedError}: a partition's stored offset is already past the batch; a newer owner has
 *   applied those records. Drop the batch; never retry it.
 * - a data error: PostgreSQL refused the data itself (SQLSTATE class 22 or 23). Retrying the
 *   same batch cannot help: bisect it until the one bad record is found and dead-lettered.
 * - anything else (connection lost, server restarting, deadlock, out of connections) is transient:
 *   retry the same batch with jittered backoff while consumption stays paused.
 */

/** SQLSTATE raised by apply_batch when the fence fails (prisma/migrations/…_apply_batch). */
export const FENCED_SQLSTATE = 'WSF01';

export class FencedError extends Error {
  override name = 'FencedError';
}

export type FlushErrorKind = 'fenced' | 'data' | 'transient';

/** Classifies an error thrown while flushing (see the module comment for what each kind means). */
export function classifyFlushError(error: unknown): FlushErrorKind {
  if (error instanceof FencedError) return 'fenced';
  const code = (error as { code?: unknown }).code;
  if (code === FENCED_SQLSTATE) return 'fenced';
  // https://www.postgresql.org/docs/current/errcodes-appendix.html
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))) return 'data';
  return 'transient';
}
