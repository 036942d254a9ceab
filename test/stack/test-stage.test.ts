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
import {
  ensureImages,
  ensureStandin,
  FASTAPI_EXAMPLE_BUILD_ARGS,
  FASTAPI_EXAMPLE_DIR,
  RECIPES,
} from "../docker/standin-images.js";
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
async function stageConfig(
  tag: string,
): Promise<{ entrypoint: string[]; defaultArgs: string[]; workdir: string }> {
  const { stdout } = await execa("docker", ["image", "inspect", "--format", "{{json .Config}}", tag]);
  const config = JSON.parse(stdout) as {
    Entrypoint: string[] | null;
    Cmd: string[] | null;
    WorkingDir: string;
  };
  return { entrypoint: config.Entrypoint ?? [], defaultArgs: config.Cmd ?? [], workdir: config.WorkingDir };
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "shipyard-test-stage-"));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

type ServiceNames = { network: string; postgres: string; redis: string };

/** A Postgres and a Redis of their own for one test run, as the module starts fresh services for each call. */
async function startServices(names: ServiceNames): Promise<void> {
  const images = await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE"]);
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
  const redisConf = path.join(scratch, `${names.redis}.conf`);
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
}

async function removeServices(names: ServiceNames): Promise<void> {
  await docker(["rm", "--force", "--volumes", names.postgres, names.redis]);
  await docker(["network", "rm", names.network]);
}

/** A Dockerfile whose test stage the module builds: `--source` (the build context) and `--dockerfile`. */
interface StageCase {
  label: string;
  context: string;
  dockerfile: string;
  /** The stage's CMD: what `dagger call test` runs when --test-command is left out. */
  defaultArgs: string[];
  workdir: string;
  buildArgs: () => Promise<string[]>;
  /** A test file of the suite, as the JUnit report names it. */
  reports: RegExp;
}

const CASES: StageCase[] = [
  {
    label: "the Node sample (app/Dockerfile, from the repository root)",
    context: REPO_ROOT,
    dockerfile: DOCKERFILE,
    defaultArgs: ["npx", "vitest", "run", "--project", "unit", "--project", "integration", "app/test"],
    workdir: "/src",
    buildArgs: async () => {
      // The module passes its pinned Node image as NODE_IMAGE: the stand-in for that tag.
      await ensureStandin(DEFAULT_NODE_IMAGE, RECIPES.NODE_IMAGE);
      return imageBuildArgs({ nodeImage: DEFAULT_NODE_IMAGE, runtimeImage: DEFAULT_RUNTIME_IMAGE }).flatMap(
        ({ name, value }) => ["--build-arg", `${name}=${value}`],
      );
    },
    reports: /app\/test\/integration\//,
  },
  {
    // `dagger call --source=examples/fastapi test`. Stand-in: PyPI and the python image are out of reach
    // here, so Debian's packages on the Debian stand-in (the Dockerfile's PYTHON_DEPS=debian).
    label: "the FastAPI example (examples/fastapi, Debian's Python packages)",
    context: FASTAPI_EXAMPLE_DIR,
    dockerfile: "Dockerfile",
    defaultArgs: ["sh", "-c", 'exec python3 -m pytest -p no:cacheprovider --junitxml="$JUNIT_FILE"'],
    workdir: "/srv",
    buildArgs: async () => FASTAPI_EXAMPLE_BUILD_ARGS,
    reports: /tests\.test_orders|test_orders/,
  },
];

describe.each(CASES)("the test stage of $label, run as `dagger call test` runs it", (stage) => {
  const tag = `${stageTag}-${CASES.indexOf(stage)}`;
  const n = CASES.indexOf(stage);
  const container = `${names.tests}-${n}`;
  const services = {
    network: `${names.network}-${n}`,
    postgres: `${names.postgres}-${n}`,
    redis: `${names.redis}-${n}`,
  };

  beforeAll(async () => {
    // Default (bridge) build network: its NAT reaches Debian's archive and the npm registry, as the engine's does.
    await execa(
      "docker",
      [
        "build",
        "--quiet",
        "--force-rm",
        "--file",
        stage.dockerfile,
        "--target",
        step.target,
        ...(await stage.buildArgs()),
        "--tag",
        tag,
        ".",
      ],
      { cwd: stage.context },
    );
    await startServices(services);
  }, 1_200_000);

  afterAll(async () => {
    await docker(["rm", "--force", "--volumes", container]);
    await docker(["image", "rm", "--force", tag]);
    await removeServices(services);
  });

  it("is a stage of the app's Dockerfile that says how to run the tests", async () => {
    const config = await stageConfig(tag);
    expect(config.defaultArgs).toEqual(stage.defaultArgs);
    expect(config.workdir).toBe(stage.workdir);
  });

  it("runs the tests against the bound Postgres and Redis and leaves the JUnit report where the module reads it", async () => {
    const config = await stageConfig(tag);
    const argv = testArgv(step, config, stage.dockerfile);
    const plain = Object.entries(testVariables(step)).flatMap(([name, value]) => [
      "--env",
      `${name}=${value}`,
    ]);
    // The URLs go in by name only, as the module's secret variables: never in an argv.
    const run = await docker(
      [
        "run",
        "--name",
        container,
        "--network",
        services.network,
        "--env",
        TEST_VARIABLES.databaseUrl,
        "--env",
        TEST_VARIABLES.redisUrl,
        ...plain,
        // argv already holds the entrypoint (testArgv), so the image's own is cleared, as withExec runs argv.
        "--entrypoint=",
        tag,
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
    expect(outcome.passed, `${outcome.summary}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`).toBe(
      true,
    );
    expect(run.stdout).not.toContain(db.password);

    const report = path.join(scratch, `junit-${CASES.indexOf(stage)}.xml`);
    await execa("docker", ["cp", `${container}:${reportLocation(step, config.workdir)}`, report]);
    const xml = await readFile(report, "utf8");
    expect(xml).toMatch(/<testsuites?[ >]/);
    expect(xml).toMatch(stage.reports);
    expect(xml).not.toMatch(/<failure/);
  }, 1_200_000);
});
