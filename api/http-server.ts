import http from 'node:http';

/**
 * The API's HTTP server with explicit socket limits, so idle or slow clients cannot hold sockets
 * for ever (Node's defaults: 60 s for headers, 300 s for a request, no idle limit at all).
 * server.ts listens on it; the tests build theirs with the same function and shorter limits.
 */

export interface HttpLimits {
  /** Time to receive the complete request headers (slow-loris guard); then 408 and close. */
  headersTimeoutMs: number;
  /** Time to receive the complete request, body included; then 408 and close. */
  requestTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this long. A proxy in front that reuses
   * connections must use a shorter idle timeout than this, or it may send on a closing socket.
   */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long is destroyed (the SSE route lifts it: heartbeats keep it busy). */
  socketIdleMs: number;
  /** How often Node checks the header and request deadlines (it checks on an interval, not per socket). */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  // Our requests are one line of headers and at most 16 KiB of body (POST /api/events).
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Node's own default, stated: long enough for a client's next request in a burst.
  keepAliveTimeoutMs: 5_000,
  // Above the longest a request can wait on the database (connect 2 s + statement 5 s + 1 s, twice).
  socketIdleMs: 30_000,
  checkIntervalMs: 1_000,
};

export function createHttpServer(handle: http.RequestListener, limits: HttpLimits = DEFAULT_HTTP_LIMITS): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    handle,
  );
  server.setTimeout(limits.socketIdleMs, (socket) => socket.destroy());
  return server;
}
