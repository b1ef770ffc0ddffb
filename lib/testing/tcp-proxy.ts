import net from 'node:net';

/**
 * A TCP proxy in front of a server, for fault tests:
 * - `cut()` drops every open connection and resets new ones (the database "going away");
 * - `blackhole()` silently stops forwarding in both directions without closing anything (a
 *   partitioned network or a dead host: no RST, no FIN, new connections open but nothing answers);
 * - `restore()` lets connections through again, delivering what a blackhole held, as TCP would
 *   once the network returns;
 * - `stall()` holds only what clients send, from now on or from the first chunk that contains a
 *   given byte string (e.g. the name of a statement, to stall a client exactly before it runs);
 *   `release()` forwards what was held, in order, and stops holding.
 *
 * Blackholed bytes wait in the proxy (its sockets are paused), so the kernel still acknowledges
 * them and TCP keep-alive on the client does not notice: only an application-level deadline
 * (query timeout, probe, connect timeout) does, which is what the services must rely on.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  blackhole(): void;
  restore(): void;
  /**
   * Holds client-to-server traffic on every connection, now or (with `when`) from the first chunk
   * any client sends that contains `when`. Resolves once something is actually held.
   */
  stall(options?: { when?: string | Buffer }): Promise<void>;
  /** Forwards everything `stall` held, in order, and stops holding. */
  release(): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  /** Connected on the first forward; none while a connection opened during a blackhole waits. */
  upstream: net.Socket | undefined;
  /** Client bytes not yet forwarded (stalled or blackholed), in order. */
  held: Buffer[];
  /** The end of the last chunk, so a stall's `when` split across two chunks is still seen. */
  tail: Buffer;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: 'open' | 'cut' | 'blackhole' = 'open';
  const links = new Set<Link>();
  let stall: { when: Buffer | undefined; holding: boolean; onHeld: () => void } | undefined;

  const drop = (link: Link): void => {
    links.delete(link);
    link.client.destroy();
    link.upstream?.destroy();
  };
  const connectUpstream = (link: Link): net.Socket => {
    if (link.upstream) return link.upstream;
    const upstream = net.connect(targetPort, targetHost);
    link.upstream = upstream;
    upstream.on('error', () => drop(link)).on('close', () => drop(link));
    upstream.pipe(link.client);
    return upstream;
  };
  const write = (link: Link, chunk: Buffer): void => {
    const upstream = connectUpstream(link);
    if (!upstream.write(chunk)) {
      link.client.pause();
      upstream.once('drain', () => {
        if (mode === 'open') link.client.resume();
      });
    }
  };
  /** Forwards what the link holds, unless a blackhole or a stall still holds it. */
  const flush = (link: Link): void => {
    if (mode !== 'open' || stall?.holding) return;
    for (const chunk of link.held.splice(0)) write(link, chunk);
  };
  const hold = (link: Link): void => {
    link.client.pause();
    link.upstream?.unpipe(link.client);
    link.upstream?.pause();
  };

  const onClientData = (link: Link, chunk: Buffer): void => {
    if (stall && !stall.holding && stall.when) {
      const seen = Buffer.concat([link.tail, chunk]);
      if (seen.includes(stall.when)) stall.holding = true;
      link.tail = seen.subarray(Math.max(0, seen.length - stall.when.length + 1));
    }
    if (stall?.holding || mode === 'blackhole' || link.held.length > 0) {
      link.held.push(chunk);
      if (stall?.holding) stall.onHeld();
      return;
    }
    write(link, chunk);
  };

  const server = net.createServer((client) => {
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: undefined, held: [], tail: Buffer.alloc(0) };
    links.add(link);
    client.on('error', () => drop(link)).on('close', () => drop(link));
    client.on('data', (chunk: Buffer) => onClientData(link, chunk));
    if (mode === 'blackhole') client.pause();
    else connectUpstream(link);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    cut() {
      mode = 'cut';
      for (const link of links) {
        link.client.resetAndDestroy();
        link.upstream?.resetAndDestroy();
      }
      links.clear();
    },
    blackhole() {
      mode = 'blackhole';
      for (const link of links) hold(link);
    },
    restore() {
      const was = mode;
      mode = 'open';
      if (was !== 'blackhole') return;
      for (const link of links) {
        // A connection opened during the blackhole connects (and pipes back) only now.
        const existed = link.upstream !== undefined;
        const upstream = connectUpstream(link);
        if (existed) upstream.pipe(link.client);
        upstream.resume();
        link.client.resume();
        flush(link);
      }
    },
    stall(options = {}) {
      const when = options.when === undefined ? undefined : Buffer.from(options.when);
      return new Promise<void>((resolve) => {
        let resolved = false;
        const onHeld = (): void => {
          if (resolved) return;
          resolved = true;
          resolve();
        };
        stall = { when, holding: when === undefined, onHeld };
        for (const link of links) link.tail = Buffer.alloc(0);
      });
    },
    release() {
      stall = undefined;
      for (const link of links) flush(link);
    },
    close: () =>
      new Promise((resolve) => {
        for (const link of [...links]) drop(link);
        server.close(() => resolve());
      }),
  };
}
