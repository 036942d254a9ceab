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

/** The words a person types to deploy, and what both CI systems run. */
const DEPLOY_WORDS = "dagger call deploy --env=prod";

/**
 * The host variables Dagger's local defaults (.env.example, copied to .env) read for a function: the env://
 * references of the names that start with it (DEPLOY_SSHKEY=env://DEPLOY_SSH_KEY for deploy).
 */
function localDefaultVariables(fn: string): string[] {
  const prefix = `${fn.replace(/-/g, "_").toUpperCase()}_`;
  return read(".env.example")
    .split("\n")
    .filter((line) => line.toUpperCase().startsWith(prefix))
    .flatMap((line) => [...line.matchAll(/=env:\/\/([A-Za-z_][A-Za-z0-9_]*)$/g)].map((m) => m[1] as string));
}

interface Step {
  if?: string;
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

  it("gives each call that reads Dagger's local defaults the .env and every variable its references read", () => {
    for (const [, job] of jobsOf(file)) {
      const steps = job.steps ?? [];
      steps.forEach((step, index) => {
        if (!step.uses?.startsWith("dagger/dagger-for-github@")) return;
        const fn = step.with?.args?.trim().split(/\s+/)[0] ?? "";
        const variables = localDefaultVariables(fn);
        if (variables.length === 0) return;
        const copied = steps.slice(0, index).some((s) => s.run?.trim() === "cp .env.example .env");
        expect(copied, `${file}: ${fn} runs without .env`).toBe(true);
        for (const name of variables)
          expect({ ...job.env, ...step.env }, `${fn} reads env://${name} in ${file}`).toHaveProperty(name);
      });
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

describe("the deploy the workflows run", () => {
  it("is the user's words exactly: `dagger call deploy --env=prod`, nothing more", () => {
    const [, deploy] = jobsOf(".github/workflows/ci.yml").find(([name]) => name === "deploy") ?? [];
    const calls = (deploy?.steps ?? []).filter((s) => s.uses?.startsWith("dagger/dagger-for-github@"));
    expect(calls.map((s) => `dagger ${s.with?.verb} ${s.with?.args?.trim()}`)).toEqual([DEPLOY_WORDS]);
  });
});

describe("the nightly backup artifact", () => {
  const [, job] = jobsOf(".github/workflows/backup.yml").find(([name]) => name === "backup") ?? [];
  const steps = job?.steps ?? [];
  const uploads = steps.filter((s) => s.uses?.startsWith("actions/upload-artifact@"));

  it("is only ever the age-encrypted file, uploaded only when the repository names a recipient", () => {
    expect(uploads.length).toBeGreaterThan(0);
    for (const upload of uploads) {
      expect(upload.with?.path, "uploaded path").toMatch(/\.age$/);
      expect(upload.if).toMatch(/vars\.BACKUP_AGE_RECIPIENT != ''/);
    }
  });

  it("is encrypted to that recipient with age, from the variable through the environment (never inlined in the script)", () => {
    const encrypt = steps.find((s) => /age --encrypt/.test(s.run ?? ""));
    expect(encrypt?.env?.RECIPIENT).toMatch(/^\$\{\{ vars\.BACKUP_AGE_RECIPIENT \}\}$/);
    expect(encrypt?.run).toMatch(
      /age --encrypt --recipient "\$RECIPIENT" --output backups\/prod\.dump\.age backups\/prod\.dump/,
    );
    expect(encrypt?.run).not.toMatch(/\$\{\{/);
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

  it("deploys with the same words as GitHub and a person, with .env and the variables its references read", () => {
    const deploy = gitlab.deploy as { script?: string[]; variables?: Record<string, string> };
    expect(deploy.script).toEqual([DEPLOY_WORDS]);
    const dagger = gitlab[".dagger"] as { before_script?: string[] };
    expect(dagger.before_script).toContain("cp .env.example .env");
    const set = new Set([...Object.keys(deploy.variables ?? {}), "DEPLOY_SSH_KEY"]);
    for (const name of localDefaultVariables("deploy")) expect(set.has(name), name).toBe(true);
  });

  it("keeps the backup only age-encrypted to BACKUP_AGE_RECIPIENT, and removes the plain copy", () => {
    const backup = gitlab.backup as {
      script?: string[];
      after_script?: string[];
      artifacts?: { paths?: string[] };
    };
    expect(backup.artifacts?.paths).toEqual(["backups/prod.dump.age"]);
    expect(backup.script?.join("\n")).toMatch(/age --encrypt --recipient "\$BACKUP_AGE_RECIPIENT"/);
    expect(backup.after_script).toContain("rm -f backups/prod.dump");
  });
});
