/** The test step for any language: which stage, which command, which variables, where the report is read. */
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../src/lib/invalid-input.js";
import {
  DEFAULT_TEST_REPORT_PATH,
  DEFAULT_TEST_TARGET,
  parseTestStep,
  reportLocation,
  TEST_VARIABLES,
  testArgv,
  testVariables,
} from "../src/lib/test-step.js";

const defaults = {
  testTarget: DEFAULT_TEST_TARGET,
  testCommand: [],
  testReportPath: DEFAULT_TEST_REPORT_PATH,
};
const step = parseTestStep(defaults);

describe("the test step's arguments", () => {
  it("default to the stage named test, its own command, and reports/junit.xml", () => {
    expect(step).toEqual({ target: "test", command: [], reportPath: "reports/junit.xml" });
  });

  it("take another stage, a command word by word and an absolute report path", () => {
    expect(
      parseTestStep({
        testTarget: "ci-tests",
        testCommand: ["pytest", "-x"],
        testReportPath: "/tmp/junit.xml",
      }),
    ).toEqual({ target: "ci-tests", command: ["pytest", "-x"], reportPath: "/tmp/junit.xml" });
  });

  it.each([
    [{ testTarget: "" }, /^--test-target: must be the name of a stage in the Dockerfile/],
    [{ testTarget: "test stage" }, /^--test-target: must be the name of a stage/],
    [{ testCommand: ["pytest", ""] }, /^--test-command: must not hold an empty word/],
    [
      { testCommand: ["pytest -x"] },
      /^--test-command: takes the program and each argument as separate words/,
    ],
    [{ testReportPath: " " }, /^--test-report-path: must be the path the tests write their JUnit report to/],
    [{ testReportPath: "../junit.xml" }, /^--test-report-path: must name a file, without '\.\.'/],
    [{ testReportPath: "reports/" }, /^--test-report-path: must name a file/],
  ])("refuses %o in one line naming the flag", (bad, message) => {
    const attempt = () => parseTestStep({ ...defaults, ...bad });
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain("\n");
    }
  });
});

describe("what the test container runs", () => {
  it("is the stage's CMD after its ENTRYPOINT, as docker run starts it, when no command is given", () => {
    const stage = { entrypoint: ["docker-entrypoint.sh"], defaultArgs: ["npm", "run", "test:app"] };
    expect(testArgv(step, stage, "app/Dockerfile")).toEqual([
      "docker-entrypoint.sh",
      "npm",
      "run",
      "test:app",
    ]);
    expect(testArgv(step, { entrypoint: [], defaultArgs: ["pytest"] }, "Dockerfile")).toEqual(["pytest"]);
  });

  it("is the command given instead of the CMD, the entrypoint kept", () => {
    const custom = parseTestStep({ ...defaults, testCommand: ["pytest", "-x", "tests/unit"] });
    const stage = { entrypoint: ["/entrypoint"], defaultArgs: ["pytest"] };
    expect(testArgv(custom, stage, "Dockerfile")).toEqual(["/entrypoint", "pytest", "-x", "tests/unit"]);
  });

  it("cannot be guessed for a stage with neither CMD nor ENTRYPOINT: one line says what to add", () => {
    const attempt = () => testArgv(step, { entrypoint: [], defaultArgs: [] }, "app/Dockerfile");
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(
      /^--test-command: the "test" stage of app\/Dockerfile has no CMD or ENTRYPOINT; add a CMD that runs the tests to it, or pass --test-command$/,
    );
  });
});

describe("the test container's environment and report", () => {
  it("says where to write the JUnit report and that this is CI; the URLs go in as secrets by these names", () => {
    expect(testVariables(step)).toEqual({ JUNIT_FILE: "reports/junit.xml", CI: "true" });
    expect(TEST_VARIABLES).toMatchObject({ databaseUrl: "DATABASE_URL", redisUrl: "REDIS_URL" });
    expect(Object.keys(testVariables(step))).not.toContain(TEST_VARIABLES.databaseUrl);
  });

  it("reads the report relative to the stage's working directory, or where an absolute path says", () => {
    expect(reportLocation(step, "/src")).toBe("/src/reports/junit.xml");
    expect(reportLocation(step, "/srv/app/")).toBe("/srv/app/reports/junit.xml");
    expect(reportLocation(step, "")).toBe("/reports/junit.xml");
    expect(reportLocation(parseTestStep({ ...defaults, testReportPath: "/tmp/j.xml" }), "/src")).toBe(
      "/tmp/j.xml",
    );
  });
});
