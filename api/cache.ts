import type { ApiMetrics } from './metrics.js';

/**
 * A read cache with bounded staleness and request coalescing.
 *
 * Bound: a cached answer is at most `ttlMs` older than the database state when it was loaded, and
 * the load itself started no earlier than the first request that missed. So any answer reflects
 * the database as of at most `ttlMs` plus one read's duration before the request. Requests that
 * arrive while a key is loading join that load (`coalesced`) instead of running their own query:
 * a hot key costs one query per TTL window however many clients ask for it.
 *
 * Failed loads are not cached. At most `maxEntries` keys are kept; the oldest insertion is evicted
 * first (Map keeps insertion order), which is enough for a TTL this short.
 */
export class ReadCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly loading = new Map<string, Promise<V>>();

  constructor(
    private readonly name: string,
    private readonly ttlMs: number,
    private readonly metrics: Pick<ApiMetrics, 'cacheRequests'>,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The cached value of `key`, or the result of `load` (shared with concurrent callers). */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlMs === 0) {
      this.metrics.cacheRequests.inc({ cache: this.name, result: 'miss' });
      return load();
    }
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) {
      this.metrics.cacheRequests.inc({ cache: this.name, result: 'hit' });
      return entry.value;
    }
    const pending = this.loading.get(key);
    if (pending) {
      this.metrics.cacheRequests.inc({ cache: this.name, result: 'coalesced' });
      return pending;
    }
    this.metrics.cacheRequests.inc({ cache: this.name, result: 'miss' });
    const startedAt = this.now();
    const promise = load().then(
      (value) => {
        this.loading.delete(key);
        this.store(key, value, startedAt + this.ttlMs);
        return value;
      },
      (error: unknown) => {
        this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  /** Entries held now (expired ones included until evicted or replaced). */
  get size(): number {
    return this.entries.size;
  }

  private store(key: string, value: V, expiresAt: number): void {
    // Expiry counts from when the load started, not when it ended: that is what bounds staleness.
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt });
  }
}
