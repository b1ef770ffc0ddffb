/**
 * Clean-up on Ctrl-C: the benchmarks start servers (PostgreSQL, the processor, the API) that must
 * not outlive them. Each registers its stop here; SIGINT/SIGTERM runs them newest first, then exits
 * 130, and a normal run unregisters them as it stops each one itself.
 */
const steps = new Set<() => Promise<unknown>>();
let installed = false;

/** Registers `stop` to run on SIGINT/SIGTERM; returns a function that unregisters it. */
export function stopOnSignal(stop: () => Promise<unknown>): () => void {
  if (!installed) {
    installed = true;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.error(`\n${signal}: stopping what this run started`);
        void (async () => {
          for (const step of [...steps].reverse()) await step().catch(() => undefined);
          process.exit(130);
        })();
      });
    }
  }
  steps.add(stop);
  return () => steps.delete(stop);
}
