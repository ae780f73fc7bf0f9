import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/helpers/temp-dir.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites each start their own DynamoDB Local / SQS on free ports; two cores, so keep it modest.
    maxWorkers: 2,
  },
});
