/**
 * `dagger call test`'s container steps on a real engine: app/Dockerfile's test stage built as the module
 * builds it (`docker build --target test`, the module's build arguments), started as the module starts it
 * (lib/test-step.ts: the entrypoint and the command, JUNIT_FILE and CI set, the services' URLs handed over by
 * name only), against a Postgres and a Redis run as services.ts runs them (the same server arguments, config
 * file and readiness probe, reached under the same host names on a network of their own). Then the JUnit
 * report is read where the module reads it.
 *
 * The run uses the stage's own CMD, as `dagger call test` with no flags does: the sample app's unit and
 * integration tests, the latter on those services. The repository's whole suite needs a full host (an sshd,
 * a tmpfs mounted as root) and is proven there by `npm test`.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageBuildArgs } from "../../dagger/src/lib/app-build.js";
import { DEFAULT_NODE_IMAGE, DEFAULT_RUNTIME_IMAGE } from "../../dagger/src/lib/defaults.js";
import {
  POSTGRES_HOST,
  parseTestDatabase,
  postgresReadinessProbe,
  postgresServerArgs,
  REDIS_CONFIG_PATH,
  REDIS_HOST,
  redisConfig,
  TEST_DATABASE,
  testDatabaseUrl,
  testOutcome,
  testRedisUrl,
} from "../../dagger/src/lib/test-plan.js";
import {
  DEFAULT_TEST_REPORT_PATH,
  DEFAULT_TEST_TARGET,
  parseTestStep,
  reportLocation,
  TEST_VARIABLES,
  testArgv,
  testVariables,
} from "../../dagger/src/lib/test-step.js";
import { ensureImages, ensureStandin, RECIPES } from "../docker/standin-images.js";
import { REPO_ROOT } from "./support/nginx-host.js";

const DOCKERFILE = "app/Dockerfile";
const id = `test-stage-${randomBytes(3).toString("hex")}`;
const stageTag = `shipyard-test-stage:${id}`;
const names = { network: id, postgres: `${id}-postgres`, redis: `${id}-redis`, tests: `${id}-tests` };
// `dagger call test` with no flags: the stage's own CMD.
const step = parseTestStep({
  testTarget: DEFAULT_TEST_TARGET,
  testCommand: [],
  testReportPath: DEFAULT_TEST_REPORT_PATH,
});
const db = parseTestDatabase({ ...TEST_DATABASE, password: randomBytes(18).toString("base64url") });
const redisPassword = randomBytes(18).toString("base64url");
let scratch: string;

const docker = (args: string[], options: { env?: Record<string, string> } = {}) =>
  execa("docker", args, { reject: false, ...(options.env ? { env: options.env } : {}) });

/** Polls `check` until it holds, as Dagger waits for a service's healthcheck or port. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(500);
  }
  throw new Error(`${what} was not ready within ${timeoutMs / 1000} s`);
}

/** The stage's image config: how `docker run` (and the module's withExec) starts it. */
async function stageConfig(): Promise<{ entrypoint: string[]; defaultArgs: string[]; workdir: string }> {
  const { stdout } = await execa("docker", ["image", "inspect", "--format", "{{json .Config}}", stageTag]);
  const config = JSON.parse(stdout) as {
    Entrypoint: string[] | null;
    Cmd: string[] | null;
    WorkingDir: string;
  };
  return { entrypoint: config.Entrypoint ?? [], defaultArgs: config.Cmd ?? [], workdir: config.WorkingDir };
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "shipyard-test-stage-"));
  const images = await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE"]);
  // The module passes its pinned Node image as NODE_IMAGE: the stand-in for that tag.
  await ensureStandin(DEFAULT_NODE_IMAGE, RECIPES.NODE_IMAGE);
  const buildArgs = imageBuildArgs({
    nodeImage: DEFAULT_NODE_IMAGE,
    runtimeImage: DEFAULT_RUNTIME_IMAGE,
  }).flatMap(({ name, value }) => ["--build-arg", `${name}=${value}`]);
  // Default (bridge) build network: its NAT reaches Debian's archive and the npm registry, as the engine's does.
  await execa(
    "docker",
    [
      "build",
      "--quiet",
      "--force-rm",
      "--file",
      DOCKERFILE,
      "--target",
      step.target,
      ...buildArgs,
      "--tag",
      stageTag,
      ".",
    ],
    { cwd: REPO_ROOT },
  );

  await execa("docker", ["network", "create", names.network]);
  // services.ts: the image's entrypoint creates the user and database, then runs these server arguments.
  await execa(
    "docker",
    [
      "run",
      "--detach",
      "--name",
      names.postgres,
      "--network",
      names.network,
      "--network-alias",
      POSTGRES_HOST,
      "--env",
      `POSTGRES_USER=${db.user}`,
      "--env",
      `POSTGRES_DB=${db.database}`,
      "--env",
      "POSTGRES_PASSWORD",
      images.POSTGRES_IMAGE,
      ...postgresServerArgs(),
    ],
    { env: { POSTGRES_PASSWORD: db.password } },
  );
  const redisConf = path.join(scratch, "redis.conf");
  await writeFile(redisConf, redisConfig({ password: redisPassword }), { mode: 0o644 });
  await execa("docker", [
    "run",
    "--detach",
    "--name",
    names.redis,
    "--network",
    names.network,
    "--network-alias",
    REDIS_HOST,
    "--volume",
    `${redisConf}:${REDIS_CONFIG_PATH}:ro`,
    images.REDIS_IMAGE,
    "redis-server",
    REDIS_CONFIG_PATH,
  ]);
  await until(
    "the test Postgres",
    async () => (await docker(["exec", names.postgres, ...postgresReadinessProbe(db)])).exitCode === 0,
  );
  // Dagger's check for Redis is its exposed port answering; an unauthenticated PING answering NOAUTH is that.
  await until("the test Redis", async () =>
    /NOAUTH|PONG/.test((await docker(["exec", names.redis, "redis-cli", "ping"])).stdout),
  );
});

afterAll(async () => {
  await docker(["rm", "--force", "--volumes", names.tests, names.postgres, names.redis]);
  await docker(["network", "rm", names.network]);
  await docker(["image", "rm", "--force", stageTag]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("the test stage, run as `dagger call test` runs it", () => {
  it("is a stage of the app's Dockerfile that says how to run the tests", async () => {
    const config = await stageConfig();
    expect(config.defaultArgs).toEqual(["npm", "run", "test:app"]);
    expect(config.workdir).toBe("/src");
  });

  it("runs the tests against the bound Postgres and Redis and leaves the JUnit report where the module reads it", async () => {
    const config = await stageConfig();
    const argv = testArgv(step, config, DOCKERFILE);
    const plain = Object.entries(testVariables(step)).flatMap(([name, value]) => [
      "--env",
      `${name}=${value}`,
    ]);
    // The URLs go in by name only, as the module's secret variables: never in an argv.
    const run = await docker(
      [
        "run",
        "--name",
        names.tests,
        "--network",
        names.network,
        "--env",
        TEST_VARIABLES.databaseUrl,
        "--env",
        TEST_VARIABLES.redisUrl,
        ...plain,
        // argv already holds the entrypoint (testArgv), so the image's own is cleared, as withExec runs argv.
        "--entrypoint=",
        stageTag,
        ...argv,
      ],
      {
        env: {
          [TEST_VARIABLES.databaseUrl]: testDatabaseUrl(db),
          [TEST_VARIABLES.redisUrl]: testRedisUrl(redisPassword),
        },
      },
    );
    const outcome = testOutcome(run.exitCode ?? -1, `${run.stdout}\n${run.stderr}`);
    expect(outcome.passed, outcome.summary).toBe(true);
    expect(run.stdout).not.toContain(db.password);

    const report = path.join(scratch, "junit.xml");
    await execa("docker", ["cp", `${names.tests}:${reportLocation(step, config.workdir)}`, report]);
    const xml = await readFile(report, "utf8");
    expect(xml).toMatch(/<testsuites /);
    expect(xml).toMatch(/app\/test\/integration\//);
    expect(xml).not.toMatch(/<failure/);
  }, 1_200_000);
});
