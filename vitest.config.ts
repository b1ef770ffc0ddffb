import { defineConfig } from 'vitest/config';

// Quiet service logs in test output (the global setup's migrations, in-process helpers); a child
// process a test starts gets its own level from the test.
process.env.LOG_LEVEL ??= 'warn';

// One PostgreSQL server and one librdkafka mock cluster for the whole run (lib/testing/global-setup.ts);
// each test file makes its own database and topics, so files can run in parallel.
export default defineConfig({
  test: {
    globalSetup: ['lib/testing/global-setup.ts'],
    include: ['{lib,processor,api,load,prisma,grafana}/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers than that only make the database and broker tests contend.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
