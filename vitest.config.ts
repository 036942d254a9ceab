import { defineConfig } from "vitest/config";

// JUNIT_FILE lets CI (and the Dagger `test` function) export a JUnit report without a second config.
const junitFile = process.env.JUNIT_FILE;

export default defineConfig({
  test: {
    reporters: junitFile ? ["default", "junit"] : ["default"],
    // Vitest exits the process this long after it starts closing, global teardowns included: the Docker
    // tests' engine must have time to stop and remove its files (several GB of layers) before that.
    teardownTimeout: 180_000,
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
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // Everything that needs a Docker engine: one engine for the run (test/docker/global-setup.ts),
          // shared by files that each build or start their own images, stacks and projects, one file at a time.
          name: "docker",
          include: ["test/stack/**/*.test.ts", "deploy/test/e2e/**/*.test.ts", "test/journey/**/*.test.ts"],
          globalSetup: ["test/docker/global-setup.ts"],
          setupFiles: ["test/docker/use-test-engine.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 1_200_000,
        },
      },
    ],
  },
});
