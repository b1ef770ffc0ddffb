import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * docker-compose.yml as Compose reads it, for the checks that run without a container engine
 * (lib/dev/__tests__/compose.test.ts, image-build.test.ts): the YAML with its `<<` merge keys, and
 * variable interpolation as the Compose specification defines it
 * (https://docs.docker.com/reference/compose-file/interpolation/).
 */

export const COMPOSE_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docker-compose.yml');

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number>;
  command?: string[] | string;
  entrypoint?: string[] | string;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  deploy?: { replicas: number | string };
  mem_limit?: string;
  stop_grace_period?: string;
  logging?: { driver: string; options?: Record<string, string> };
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  init?: boolean;
  pull_policy?: string;
  shm_size?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

/** The file's YAML, merge keys applied, variables not yet interpolated. */
export async function readCompose(file = COMPOSE_FILE): Promise<ComposeFile> {
  return parse(await readFile(file, 'utf8'), { merge: true }) as ComposeFile;
}

/** A `${VAR:?message}` or `${VAR?message}` whose variable is missing; `message` is Compose's. */
export class InterpolationError extends Error {
  override name = 'InterpolationError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`required variable ${variable} is missing a value: ${message}`);
  }
}

/**
 * Interpolates `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+replacement}`, `${VAR+replacement}` (nested in the word too) and `$$`.
 * With `:` an empty value counts as unset.
 *
 * @throws InterpolationError for a required variable that is missing
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char !== '$') {
      out += char;
      continue;
    }
    const next = text.charAt(i + 1);
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      out += substitute(text.slice(i + 2, end), env);
      i = end;
    } else {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0];
      if (name === undefined) out += '$';
      else {
        out += env[name] ?? '';
        i += name.length;
      }
    }
  }
  return out;
}

/** Interpolates every string in `value` (objects and arrays walked), as Compose does to the file. */
export function interpolateAll<T>(value: T, env: Record<string, string | undefined>): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => interpolateAll(item, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env)])) as T;
  }
  return value;
}

/** `10s`, `1m30s`, `500ms` (Compose durations) in milliseconds. */
export function durationMs(duration: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  let total = 0;
  const rest = duration.replace(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g, (_match, amount: string, unit: string) => {
    total += Number(amount) * (units[unit] ?? Number.NaN);
    return '';
  });
  if (rest !== '' || duration === '') throw new Error(`not a Compose duration: "${duration}"`);
  return total;
}

/** `512m`, `1g`, `1.5gb` (Compose byte values) in bytes. */
export function bytes(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(value);
  if (!match) throw new Error(`not a Compose byte value: "${value}"`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? Number.NaN;
  return Number(match[1]) * scale;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text.startsWith('${', i)) {
      depth++;
      i++;
    } else if (text.charAt(i) === '}' && --depth === 0) {
      return i;
    }
  }
  throw new Error(`unclosed \${ in "${text}"`);
}

function substitute(expression: string, env: Record<string, string | undefined>): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expression);
  if (!match?.[1]) throw new Error(`invalid interpolation format: \${${expression}}`);
  const [, name, operator, word = ''] = match;
  const value = env[name];
  const unset = operator?.startsWith(':') ? value === undefined || value === '' : value === undefined;
  switch (operator?.replace(':', '')) {
    case undefined:
      return value ?? '';
    case '-':
      return unset ? interpolate(word, env) : (value ?? '');
    case '?':
      if (unset) throw new InterpolationError(name, interpolate(word, env));
      return value ?? '';
    default: // '+'
      return unset ? '' : interpolate(word, env);
  }
}
