import { defineConfig } from 'prisma/config';

// Prisma CLI configuration. Migrations are applied by `make migrate` (prisma/migrate.ts), which
// keeps Prisma's _prisma_migrations bookkeeping, so `prisma migrate deploy` agrees where it runs.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/warehouse' },
});
