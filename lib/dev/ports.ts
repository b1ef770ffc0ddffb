import net from 'node:net';

/** A port the stack needs is taken by another process. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly purpose: string,
  ) {
    super(`port ${port} (${purpose}) is already in use: stop what listens there (\`ss -ltnp 'sport = :${port}'\`) or choose another port`);
  }
}

/**
 * Fails with PortInUseError when `port` cannot be bound on the loopback interface. Checked before
 * anything starts, so a conflict is reported by name instead of as a child's EADDRINUSE later.
 */
export function assertPortFree(port: number, purpose: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUseError(port, purpose) : error),
    );
    // The services listen on all interfaces (::), so probe that: a listener on 0.0.0.0 or 127.0.0.1 conflicts too.
    probe.listen({ port, host: '::', exclusive: true }, () => probe.close(() => resolve()));
  });
}
