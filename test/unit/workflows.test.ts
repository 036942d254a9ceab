/**
 * The CI configurations: GitHub workflows valid against GitHub's workflow schema, the Dagger CLI pinned to the
 * engine dagger.json declares, actions pinned to commits, secrets passed only by env:// reference, and every
 * `dagger call` naming a function the module really has.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { moduleFunctions as readModuleFunctions } from "../harness/module-functions.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

const workflowDir = ".github/workflows";
const workflows = readdirSync(path.join(root, workflowDir))
  .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
  .map((f) => path.join(workflowDir, f));

const engineVersion: string = JSON.parse(read("dagger.json")).engineVersion;

/** The names `dagger call` accepts: the module's @func methods, in kebab-case. */
const moduleFunctions = () => new Set(readModuleFunctions().keys());

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Job {
  env?: Record<string, string>;
  steps?: Step[];
}

function jobsOf(file: string): [string, Job][] {
  const workflow = parse(read(file)) as { jobs: Record<string, Job> };
  return Object.entries(workflow.jobs);
}

function daggerSteps(file: string): { job: Job; step: Step }[] {
  return jobsOf(file).flatMap(([, job]) =>
    (job.steps ?? [])
      .filter((s) => s.uses?.startsWith("dagger/dagger-for-github@"))
      .map((step) => ({ job, step })),
  );
}

describe.each(workflows)("%s", (file) => {
  it("is a valid GitHub workflow", () => {
    const { errors } = validateWorkflow(read(file));
    expect(JSON.stringify(errors, null, 2)).toBe("[]");
  });

  it("pins every action to a commit", () => {
    const uses = jobsOf(file).flatMap(([, job]) =>
      (job.steps ?? []).flatMap((s) => (s.uses ? [s.uses] : [])),
    );
    expect(uses.length).toBeGreaterThan(0);
    for (const ref of uses) expect(ref, ref).toMatch(/@[0-9a-f]{40}$/);
  });

  it("runs the Dagger CLI at the engine version dagger.json pins", () => {
    const steps = daggerSteps(file);
    expect(steps.length).toBeGreaterThan(0);
    for (const { step } of steps) expect(`v${step.with?.version}`).toBe(engineVersion);
  });

  it("calls only functions the module has (or that issue 5 brings)", () => {
    const known = moduleFunctions();
    for (const { step } of daggerSteps(file)) {
      expect(step.with?.verb).toBe("call");
      const fn = step.with?.args?.trim().split(/\s+/)[0] ?? "";
      expect(known.has(fn), `dagger call ${fn}`).toBe(true);
    }
  });

  it("passes secrets only through the environment, as env:// references", () => {
    for (const [, job] of jobsOf(file)) {
      for (const step of job.steps ?? []) {
        const args = step.with?.args ?? "";
        expect(`${args} ${step.run ?? ""}`).not.toMatch(/\$\{\{\s*secrets\./);
        for (const [, name] of args.matchAll(/env:\/\/([A-Za-z_][A-Za-z0-9_]*)/g)) {
          expect({ ...job.env, ...step.env }, `env://${name} in ${file}`).toHaveProperty(name as string);
        }
      }
    }
  });
});

describe("the module the workflows call", () => {
  it("is found, so the checks above compare against real function names", () => {
    expect([...moduleFunctions()]).toEqual(
      expect.arrayContaining(["ci", "test", "scan", "scan-reports", "publish"]),
    );
  });
});

describe("ci/gitlab-ci.yml", () => {
  const gitlab = parse(read("ci/gitlab-ci.yml")) as Record<
    string,
    { script?: string[]; after_script?: string[] }
  > & {
    variables: Record<string, string>;
  };
  const commands = Object.values(gitlab).flatMap((job) => [
    ...(job?.script ?? []),
    ...(job?.after_script ?? []),
  ]);

  it("installs the Dagger CLI at the engine version dagger.json pins", () => {
    expect(`v${gitlab.variables.DAGGER_VERSION}`).toBe(engineVersion);
  });

  it("runs the same ci call as GitHub, and calls only functions the module has (or that issue 5 brings)", () => {
    const calls = commands.filter((c) => c.startsWith("dagger call ")).map((c) => c.split(/\s+/)[2] ?? "");
    expect(calls).toContain("ci");
    const known = moduleFunctions();
    for (const fn of calls) expect(known.has(fn), `dagger call ${fn}`).toBe(true);
  });

  it("never puts a secret's value on a command line", () => {
    for (const command of commands) {
      expect(command).not.toMatch(/--(password|ssh-key|registry-password)=(?!env:\/\/)/);
    }
  });
});
