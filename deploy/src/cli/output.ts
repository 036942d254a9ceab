/**
 * What a run prints: with --json one envelope on stdout ({ ok, command, env, ms, steps, plan | result,
 * error }); otherwise the plan, or the summary on stdout and what went wrong on stderr.
 */
import { type PlannedStep, type Progress, seconds } from "../progress.js";
import type { Options } from "./args.js";
import type { Outcome } from "./command.js";

const write = (line: string) => process.stdout.write(`${line}\n`);

function printPlan(plan: PlannedStep[]): void {
  plan.forEach((step, i) => {
    write(`${i + 1}. ${step.step}`);
    if (step.argv) write(`   ${step.argv.map((a) => (/[\s'"$]/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
    if (step.note) write(`   ${step.note}`);
  });
}

export function printOutcome(
  command: string,
  options: Options,
  outcome: Outcome,
  progress: Progress,
  ms: number,
): void {
  const { problem } = outcome;
  if (options.json) {
    write(
      JSON.stringify(
        {
          ok: !problem,
          command,
          env: options.env,
          dryRun: options["dry-run"],
          ms,
          steps: progress.steps,
          ...(outcome.plan ? { plan: outcome.plan } : { result: outcome.result }),
          ...(problem ? { error: problem } : {}),
        },
        null,
        2,
      ),
    );
  } else if (outcome.plan) {
    printPlan(outcome.plan);
  } else {
    for (const line of outcome.summary) write(line);
    if (progress.steps.length) write(`done in ${seconds(ms)} (${progress.steps.length} steps)`);
    if (problem) process.stderr.write(`shipyard ${command}: ${problem.message}\n`);
  }
}

export function printFailure(
  command: string,
  options: Options,
  error: Error,
  progress: Progress,
  ms: number,
): void {
  if (options.json) {
    write(
      JSON.stringify(
        {
          ok: false,
          command,
          env: options.env,
          ms,
          steps: progress.steps,
          error: { kind: error.name, message: error.message },
        },
        null,
        2,
      ),
    );
    return;
  }
  process.stderr.write(`shipyard${command ? ` ${command}` : ""}: ${error.message}\n`);
  const failed = progress.steps.filter((s) => !s.ok).map((s) => s.step);
  if (progress.steps.length)
    process.stderr.write(
      `failed after ${seconds(ms)}; ${progress.steps.filter((s) => s.ok).length} steps done${failed.length ? `, failed at: ${failed.join(", ")}` : ""}\n`,
    );
}
