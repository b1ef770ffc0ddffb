import { z } from 'zod';
import { problemSchema } from '../schemas/common.js';
import type { ResponseSpec, RouteSpec } from './route.js';

/**
 * Builds the OpenAPI 3.1 document from the route specs. OpenAPI 3.1 schemas are JSON Schema
 * 2020-12, which is what `z.toJSONSchema` emits, so the zod schemas go in unchanged.
 */

type JsonSchema = Record<string, unknown>;

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** `/api/movements/:movementId` → `/api/movements/{movementId}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(spec: RouteSpec): JsonSchema[] {
  const list: JsonSchema[] = [];
  for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
    if (!schema) continue;
    const shape = (schema as z.ZodObject).shape as Record<string, z.ZodType>;
    for (const [name, field] of Object.entries(shape)) {
      const fieldSchema = jsonSchema(field, 'output');
      const description = fieldSchema.description as string | undefined;
      delete fieldSchema.description;
      list.push({
        name,
        in: where,
        required: where === 'path' || !field.safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema: fieldSchema,
      });
    }
  }
  for (const header of spec.headers ?? []) {
    list.push({ name: header.name, in: 'header', required: header.required, description: header.description, schema: jsonSchema(header.schema, 'output') });
  }
  return list;
}

/** The OpenAPI 3.1 document of `specs`. */
export function buildDocument(specs: RouteSpec[], info: DocumentInfo): JsonSchema {
  const components: Record<string, JsonSchema> = { Problem: jsonSchema(problemSchema, 'output') };
  const ref = (name: string, schema: z.ZodType, io: 'input' | 'output') => {
    components[name] ??= jsonSchema(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };
  const responseObject = (status: number, response: ResponseSpec) => {
    const isError = status >= 400;
    const contentTypes = [response.contentType ?? (isError ? 'application/problem+json' : 'application/json')].flat();
    const schema = response.schema ? ref(response.name ?? `${status}Body`, response.schema, 'output') : isError ? { $ref: '#/components/schemas/Problem' } : undefined;
    return { description: response.description, content: Object.fromEntries(contentTypes.map((type) => [type, schema ? { schema } : {}])) };
  };

  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of specs) {
    const operation: JsonSchema = {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.description ? { description: spec.description } : {}),
    };
    const params = parameters(spec);
    if (params.length > 0) operation.parameters = params;
    if (spec.body) {
      operation.requestBody = {
        required: true,
        description: spec.body.description,
        content: { 'application/json': { schema: ref(spec.body.name, spec.body.schema as z.ZodType, 'input') } },
      };
    }
    if (spec.security) operation.security = [{ bearerToken: [] }];
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(spec.responses)) responses[status] = responseObject(Number(status), response);
    responses['500'] ??= responseObject(500, { description: 'Internal error; the body carries no detail.' });
    if (spec.path.startsWith('/api/')) {
      responses['503'] ??= responseObject(503, {
        description: 'The database is unavailable: the query ran past the statement timeout, or the database did not answer in time. Retry after `Retry-After` seconds.',
      });
    }
    operation.responses = responses;
    (paths[openApiPath(spec.path)] ??= {})[spec.method] = operation;
  }

  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [...new Set(specs.map((s) => s.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearerToken: { type: 'http', scheme: 'bearer', description: 'The value of API_WRITE_TOKEN.' } },
    },
  };
}
