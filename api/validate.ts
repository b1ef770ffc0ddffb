import type { z } from 'zod';
import { badRequest, type InvalidParam } from './problem.js';

/**
 * Parses request input with its zod schema, or throws a 400 problem naming every bad parameter.
 * The same schemas generate the OpenAPI document, so what is documented is what is enforced.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: InvalidParam['in']): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const params: InvalidParam[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) params.push({ in: where, name: [...issue.path, key].join('.'), reason: 'unknown parameter' });
      continue;
    }
    const name = issue.path.map(String).join('.') || (where === 'body' ? '(body)' : '(all)');
    params.push({ in: where, name, reason: issue.message.slice(0, 200) });
  }
  throw badRequest(params);
}
