import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The root logger: structured JSON lines on stdout, level from LOG_LEVEL. Every module takes a
 * child with `createLogger('module')` so each line names where it came from.
 */
// pino throws on a level it does not know, at import, before any configuration is read. Start at
// info instead: loadConfig() then refuses LOG_LEVEL by name, like every other bad setting.
const requested = process.env.LOG_LEVEL;
const level = requested && (requested === 'silent' || requested in pino.levels.values) ? requested : 'info';

const root = pino({
  level,
  base: { service: process.env.SERVICE_NAME ?? undefined },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

/** A logger scoped to one module; `fields` are added to every line. */
export function createLogger(module: string, fields: Record<string, unknown> = {}): Logger {
  return root.child({ module, ...fields });
}
