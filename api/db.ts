import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';
import type { ApiMetrics } from './metrics.js';

/**
 * The API's one Prisma client (Prisma Client 7 on node-postgres through @prisma/adapter-pg, no
 * query engine binary), extended so every operation is timed into
 * wsm_api_prisma_query_duration_seconds{model,operation}.
 */
export function createDatabase(databaseUrl: string, metrics: Pick<ApiMetrics, 'prismaQueryDuration'>, poolSize = 10) {
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
  return base.$extends({
    name: 'query-metrics',
    query: {
      async $allOperations({ model, operation, args, query }) {
        const end = metrics.prismaQueryDuration.startTimer({ model: model ?? 'raw', operation });
        try {
          const result: unknown = await query(args);
          return result;
        } finally {
          end();
        }
      },
    },
  });
}

export type Database = ReturnType<typeof createDatabase>;
