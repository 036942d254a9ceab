/**
 * One run of the tests, for any language: the app Dockerfile's test stage built from the source, started
 * as lib/test-step.ts describes, against a fresh Postgres and Redis. This file only applies that
 * description and services.ts's services; every decision is in lib/.
 */
import { type Container, type Directory, dag, ReturnType, type Secret } from "@dagger.io/dagger";
import type { BuildArg } from "./lib/app-build.js";
import { generatedPassword, runId } from "./lib/run-secrets.js";
import {
  POSTGRES_HOST,
  parseTestDatabase,
  REDIS_HOST,
  redisConfig,
  TEST_DATABASE,
  testDatabaseUrl,
  testRedisUrl,
} from "./lib/test-plan.js";
import { reportLocation, TEST_VARIABLES, type TestStep, testArgv, testVariables } from "./lib/test-step.js";
import { postgresService, redisService } from "./services.js";

export interface TestRunInput {
  source: Directory;
  dockerfile: string;
  buildArgs: readonly BuildArg[];
  step: TestStep;
  postgresImage: string;
  redisImage: string;
  /** The test database's password; a random one when left out. */
  dbPassword?: Secret;
}

export interface TestRun {
  /** The container after the tests ran: its exit code, output and files (the report) can all be read. */
  container: Container;
  /** The JUnit report's absolute path in that container. */
  reportPath: string;
}

export async function runTests(input: TestRunInput): Promise<TestRun> {
  const stage = input.source.dockerBuild({
    dockerfile: input.dockerfile,
    target: input.step.target,
    buildArgs: [...input.buildArgs],
  });
  const [entrypoint, defaultArgs, workdir] = await Promise.all([
    stage.entrypoint(),
    stage.defaultArgs(),
    stage.workdir(),
  ]);
  const argv = testArgv(input.step, { entrypoint, defaultArgs }, input.dockerfile);

  const db = parseTestDatabase({
    ...TEST_DATABASE,
    password: input.dbPassword ? await input.dbPassword.plaintext() : generatedPassword(),
  });
  const redisPassword = generatedPassword();
  // Names unique to this run, so two runs in one session never share a secret by name.
  const run = runId();
  const secret = (name: string, value: string) => dag.setSecret(`${name}-${run}`, value);
  const postgres = postgresService(input.postgresImage, db, secret("test-postgres-password", db.password));
  const redis = redisService(
    input.redisImage,
    secret("test-redis-config", redisConfig({ password: redisPassword })),
  );

  const withServices = stage
    .withServiceBinding(POSTGRES_HOST, postgres)
    .withServiceBinding(REDIS_HOST, redis)
    .withSecretVariable(TEST_VARIABLES.databaseUrl, secret("test-database-url", testDatabaseUrl(db)))
    .withSecretVariable(TEST_VARIABLES.redisUrl, secret("test-redis-url", testRedisUrl(redisPassword)));
  const configured = Object.entries(testVariables(input.step)).reduce(
    (container, [name, value]) => container.withEnvVariable(name, value),
    withServices,
  );
  // Allowed to fail, so that its exit code, output and report can all be read afterwards.
  const container = configured.withExec(argv, { expect: ReturnType.Any });
  return { container, reportPath: reportLocation(input.step, workdir) };
}
