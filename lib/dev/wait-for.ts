/**
 * Polls `probe` until it returns a value. A probe that throws an error named `Fatal` (the stack
 * exited) ends the wait at once; any other failure (a refused connection) only means "not yet".
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((error: Error) => {
      if (error.name === 'Fatal') throw error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
