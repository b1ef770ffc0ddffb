import net from 'node:net';

/**
 * A TCP proxy in front of a server, for fault tests: `cut()` drops every open connection and
 * resets new ones (the database "going away"); `blackhole()` silently stops forwarding in both
 * directions without closing anything (a partitioned network or a dead host: no RST, no FIN, new
 * connections open but nothing answers); `restore()` lets connections through again, delivering
 * what was held, as TCP would once the network returns.
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
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: 'open' | 'cut' | 'blackhole' = 'open';
  const pairs = new Set<Pair>();

  const drop = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };
  const forward = (pair: Pair): void => {
    const upstream = pair.upstream ?? net.connect(targetPort, targetHost);
    if (!pair.upstream) {
      pair.upstream = upstream;
      upstream.on('error', () => drop(pair)).on('close', () => drop(pair));
    }
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
  };
  const hold = (pair: Pair): void => {
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  };

  const server = net.createServer((client) => {
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    client.on('error', () => drop(pair)).on('close', () => drop(pair));
    if (mode === 'open') forward(pair);
    else hold(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    cut() {
      mode = 'cut';
      for (const pair of pairs) {
        pair.client.resetAndDestroy();
        pair.upstream?.resetAndDestroy();
      }
      pairs.clear();
    },
    blackhole() {
      mode = 'blackhole';
      for (const pair of pairs) hold(pair);
    },
    restore() {
      const was = mode;
      mode = 'open';
      if (was === 'blackhole') for (const pair of pairs) forward(pair);
    },
    close: () =>
      new Promise((resolve) => {
        for (const pair of [...pairs]) drop(pair);
        server.close(() => resolve());
      }),
  };
}
