/**
 * The test step for any language, as data: the tests run in a container built from the app's own Dockerfile
 * (its `test` stage by convention), started the way `docker run IMAGE [COMMAND]` starts one, with Postgres
 * and Redis reachable and their URLs in the environment. The Dagger module (src/test-run.ts) and the host
 * test that builds and runs the stage on a real engine (test/stack/test-stage.test.ts) both follow this one
 * description, so what `dagger call test` runs is what that test runs.
 */
import { posix } from "node:path";
import { z } from "zod";
import { asCliFlag, describeIssues, InvalidInputError } from "./invalid-input.js";

/** The stage `test` builds when --test-target is left out. */
export const DEFAULT_TEST_TARGET = "test";

/** Where the tests are asked to write their JUnit report, relative to the test stage's working directory. */
export const DEFAULT_TEST_REPORT_PATH = "reports/junit.xml";

/**
 * The variables the test container is given, by name: the services' URLs (secret values) and where to write
 * the JUnit report. A test stage reads them: vitest's config takes JUNIT_FILE, pytest takes
 * `--junitxml="$JUNIT_FILE"`.
 */
export const TEST_VARIABLES = {
  databaseUrl: "DATABASE_URL",
  redisUrl: "REDIS_URL",
  reportPath: "JUNIT_FILE",
  ci: "CI",
} as const;

/** The test step as the module's options give it, validated. */
export interface TestStep {
  /** The Dockerfile stage the tests run in. */
  target: string;
  /** The command, as `docker run IMAGE COMMAND…` takes it; empty runs the stage's own CMD. */
  command: readonly string[];
  /** Where the JUnit report is written: relative to the stage's working directory, or absolute. */
  reportPath: string;
}

// Docker's stage names: a letter first, then letters, digits, '-', '_' and '.'.
const stageName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z][A-Za-z0-9_.-]*$/,
    "must be the name of a stage in the Dockerfile (FROM … AS NAME), e.g. test",
  );

const command = z
  .array(z.string())
  .refine((args) => args.every((arg) => arg.length > 0), {
    message: "must not hold an empty word, e.g. --test-command=pytest,-x",
  })
  .refine((args) => !/\s/.test(args[0] ?? ""), {
    message:
      "takes the program and each argument as separate words, e.g. --test-command=pytest,-x (for a shell line: --test-command=sh,-c,'pytest -x')",
  });

const reportPath = z
  .string()
  .trim()
  .min(1, "must be the path the tests write their JUnit report to, e.g. reports/junit.xml")
  .refine((p) => !p.endsWith("/") && !p.split("/").includes(".."), {
    message: "must name a file, without '..', e.g. reports/junit.xml",
  });

const testStepSchema = z.object({ testTarget: stageName, testCommand: command, testReportPath: reportPath });

/** The step from the module's arguments; a bad one is refused in one line naming its flag. */
export function parseTestStep(input: z.input<typeof testStepSchema>): TestStep {
  const result = testStepSchema.safeParse(input);
  if (!result.success) throw new InvalidInputError(describeIssues(result.error.issues, asCliFlag));
  const { testTarget, testCommand, testReportPath } = result.data;
  return { target: testTarget, command: testCommand, reportPath: testReportPath };
}

/** What the stage's image says about how it starts: its OCI entrypoint and default arguments (CMD). */
export interface StageDefaults {
  entrypoint: readonly string[];
  defaultArgs: readonly string[];
}

/**
 * The argv the test container runs, as `docker run IMAGE [COMMAND…]` would: the entrypoint kept, the
 * command given or else the stage's CMD. A stage with neither cannot say what to run: that is one line.
 */
export function testArgv(step: TestStep, stage: StageDefaults, dockerfile: string): string[] {
  const argv = [...stage.entrypoint, ...(step.command.length > 0 ? step.command : stage.defaultArgs)];
  if (argv.length === 0)
    throw new InvalidInputError(
      `--test-command: the "${step.target}" stage of ${dockerfile} has no CMD or ENTRYPOINT; add a CMD that runs the tests to it, or pass --test-command`,
    );
  return argv;
}

/** The plain variables of a test run (the URLs go in as secrets, by name, beside them). */
export function testVariables(step: TestStep): Record<string, string> {
  return { [TEST_VARIABLES.reportPath]: step.reportPath, [TEST_VARIABLES.ci]: "true" };
}

/** Where the report is read from once the tests ran: the path resolved against the stage's working directory. */
export function reportLocation(step: TestStep, workdir: string): string {
  return posix.resolve(workdir.trim() === "" ? "/" : workdir, step.reportPath);
}
