import { badRequest } from './problem.js';

/** A half-open range [since, until) of ISO instants; either end optional. */
export interface TimeRange {
  since?: string | undefined;
  until?: string | undefined;
}

/**
 * The half-open range [since, until) of a list's time filter, or undefined when neither is given.
 *
 * @throws 400 naming `sinceName` when since is after until
 */
export function timeRange(since: string | undefined, until: string | undefined, sinceName: string): TimeRange | undefined {
  if (since === undefined && until === undefined) return undefined;
  if (since !== undefined && until !== undefined && Date.parse(since) > Date.parse(until)) {
    throw badRequest([{ in: 'query', name: sinceName, reason: 'must not be after until' }]);
  }
  return { since, until };
}
