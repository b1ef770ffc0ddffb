/**
 * Point reads in batches: every key asked for during one turn of the event loop is loaded by one
 * call of `loadMany` (one SQL statement), and each caller gets its own row. The API's hottest
 * reads (one stock row, one movement) each cost one Prisma call and one database round trip per
 * request, and that per-call work, not the rows, was most of their cost (README "Read API"): with
 * 50 clients in flight a turn of the loop parses several requests, and one statement then answers
 * all of them. The batch is flushed with setImmediate, after the loop's I/O callbacks: a request
 * waits for the requests parsed beside it, never for a timer. Under light load a batch is one key.
 *
 * States: idle (nothing pending) -> collecting (keys queued, a flush scheduled) -> idle at the flush,
 * which hands the queued keys to `loadMany` in slices of at most `maxBatch`. Keys asked for twice
 * in one turn are loaded once. A failed load rejects every caller of its slice; nothing is cached
 * (api/cache.ts does that).
 */
export class BatchLoader<K, V> {
  private pending = new Map<string, { key: K; waiters: { resolve: (value: V | undefined) => void; reject: (error: unknown) => void }[] }>();
  private scheduled = false;

  constructor(
    /** Loads `keys`; returns the values found, by `keyOf`. */
    private readonly loadMany: (keys: K[]) => Promise<Map<string, V>>,
    private readonly keyOf: (key: K) => string,
    private readonly maxBatch = 100,
  ) {}

  /** The value of `key`, or undefined when `loadMany` found none. */
  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const id = this.keyOf(key);
      const entry = this.pending.get(id);
      if (entry) entry.waiters.push({ resolve, reject });
      else this.pending.set(id, { key, waiters: [{ resolve, reject }] });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.scheduled = false;
    for (let start = 0; start < batch.length; start += this.maxBatch) {
      const slice = batch.slice(start, start + this.maxBatch);
      this.loadMany(slice.map((entry) => entry.key)).then(
        (found) => {
          for (const entry of slice) {
            const value = found.get(this.keyOf(entry.key));
            for (const waiter of entry.waiters) waiter.resolve(value);
          }
        },
        (error: unknown) => {
          for (const entry of slice) for (const waiter of entry.waiters) waiter.reject(error);
        },
      );
    }
  }
}
