/** A minimal Server-Sent Events client over fetch, for tests: collects events and comments. */

export interface SseEvent {
  id: string | undefined;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  contentType = '';
  /** The body of an answer other than 200 (a problem document). */
  body = '';
  /** True once the server ended the stream (or close() aborted it). */
  ended = false;
  /** True once the server ended the stream cleanly: not a reset, not this client's close(). */
  endedByServer = false;
  private readonly abort = new AbortController();
  private buffer = '';
  private waiters: (() => void)[] = [];
  private done: Promise<void> | undefined;
  /** What broke the stream, when it did not end cleanly. */
  failure: unknown;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** Opens the stream; resolves once the response headers arrived. */
  async open(): Promise<void> {
    const response = await fetch(this.url, { headers: { accept: 'text/event-stream', ...this.headers }, signal: this.abort.signal });
    this.status = response.status;
    this.contentType = response.headers.get('content-type') ?? '';
    if (response.status !== 200) {
      this.body = await response.text();
      this.ended = true;
      return;
    }
    if (!response.body) return;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    this.done = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.feed(decoder.decode(value, { stream: true }));
        }
        this.endedByServer = true;
      } catch (error) {
        // Aborted by close(), or the connection was reset.
        if (!this.abort.signal.aborted) this.failure = error;
      }
      this.ended = true;
      for (const wake of this.waiters.splice(0)) wake();
    })();
  }

  private feed(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ id, data: data.join('\n') });
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until `predicate` holds (checked on every received chunk), or fails after `timeoutMs`. */
  async until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: timed out waiting for ${what} (events: ${this.events.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  ids(): number[] {
    return this.events.map((e) => Number(e.id));
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
