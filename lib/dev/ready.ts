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
