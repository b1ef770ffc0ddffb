/**
 * The processor's one retry helper: exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): a random delay in [0, min(cap, base * 2^attempt)], so many
 * processors retrying a recovering database do not arrive in lockstep. An abort signal ends the
 * wait at once (shutdown).
 */

/** Delay before retry number `attempt` (0-based). */
export function backoffDelayMs(attempt: number, baseMs = 100, capMs = 10_000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Thrown by {@link retry} when its signal aborts between attempts; `cause` is the last failure. */
export class RetryAborted extends Error {
  override name = 'RetryAborted';
}

export interface RetryOptions {
  /** Aborted: stop retrying and throw {@link RetryAborted}. */
  signal?: AbortSignal;
  /** First delay's ceiling; 200 ms: a restarting PostgreSQL answers again within a second or two. */
  baseMs?: number;
  /** Largest delay; 10 s keeps a recovered database noticed within seconds. */
  capMs?: number;
  /**
   * Whether a failure is worth another attempt (default: every failure). A failure it refuses is
   * rethrown as is. Attempts are numbered from 0.
   */
  retryable?(error: unknown, attempt: number): boolean | Promise<boolean>;
  /** Called before each wait, for logs and metrics. */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  random?: () => number;
}

/**
 * Runs `action` until it resolves, waiting a jittered, capped, growing delay after each failure
 * that `retryable` accepts.
 *
 * @throws the failure `retryable` refused, or {@link RetryAborted} once `signal` aborts
 */
export async function retry<T>(action: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { signal, baseMs = 200, capMs = 10_000, random = Math.random } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      return await action(attempt);
    } catch (error) {
      if (options.retryable && !(await options.retryable(error, attempt))) throw error;
      if (signal?.aborted) throw new RetryAborted('retry aborted', { cause: error });
      const delay = backoffDelayMs(attempt, baseMs, capMs, random);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, signal);
      if (signal?.aborted) throw new RetryAborted('retry aborted', { cause: error });
    }
  }
}
