import { defineConfig } from "vitest/config";

// JUNIT_FILE lets CI (and the Dagger `test` function) export a JUnit report without a second config.
const junitFile = process.env.JUNIT_FILE;

export default defineConfig({
  test: {
    reporters: junitFile ? ["default", "junit"] : ["default"],
    ...(junitFile ? { outputFile: { junit: junitFile } } : {}),
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "app/test/unit/**/*.test.ts",
            "test/unit/**/*.test.ts",
            "dagger/test/**/*.test.ts",
            "deploy/test/unit/**/*.test.ts",
          ],
        },
      },
      {
        test: {
          name: "integration",
          include: [
            "app/test/integration/**/*.test.ts",
            "test/integration/**/*.test.ts",
            "deploy/test/integration/**/*.test.ts",
          ],
          globalSetup: ["test/harness/global-setup.ts"],
          // One Postgres and one Redis are shared by every file; files truncate between tests, so run them one at a time.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "stack",
          include: ["test/stack/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 1_200_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["deploy/test/e2e/**/*.test.ts"],
          // One compose stack per file, deployed to in order; the engine is shared, so one file at a time.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
