import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The root logger: structured JSON lines on stdout, level from LOG_LEVEL. Every module takes a
 * child with `createLogger('module')` so each line names where it came from.
 */
const root = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.SERVICE_NAME ?? undefined },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

/** A logger scoped to one module; `fields` are added to every line. */
export function createLogger(module: string, fields: Record<string, unknown> = {}): Logger {
  return root.child({ module, ...fields });
}
