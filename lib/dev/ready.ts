import type { ServiceProcess } from './service-process.js';

/** A service did not become ready, or exited while starting. */
export class StartError extends Error {
  override name = 'StartError';
}

/**
 * Polls `url` until it answers 2xx. Fails with StartError when `service` exits first or
 * `timeoutMs` passes, naming the service and what it last answered, or when `signal` aborts.
 */
export async function waitForReady(service: ServiceProcess, url: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (signal?.aborted) throw new StartError(`stopped while waiting for ${service.name} to be ready`);
    if (service.hasExited) throw new StartError(`${service.name} exited with ${String(await service.exited)} before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new StartError(`${service.name} was not ready at ${url} within ${timeoutMs} ms (last answer: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The port `service` listens on: `configured`, or for 0 the one it reports in its log. Fails with
 * StartError when it exits first or does not report within `timeoutMs` (an info line: LOG_LEVEL
 * above info hides it).
 */
export async function servicePort(service: ServiceProcess, configured: number, timeoutMs: number): Promise<number> {
  if (configured > 0) return configured;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      service.httpPort,
      service.exited.then((code) => Promise.reject(new StartError(`${service.name} exited with ${String(code)} before it reported its port`))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StartError(`${service.name} did not report the port it bound within ${timeoutMs} ms (port 0 needs LOG_LEVEL info or lower)`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
