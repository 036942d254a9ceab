/** What a command of the CLI is: its usage lines, and the work it does with the run's context. */
import type { PlannedStep } from "../progress.js";
import type { CliContext } from "./context.js";

/** Options beyond --env and --config that `shipyard <command> --help` lists for a command. */
export type OptionName = "dry-run" | "json" | "release" | "no-backup" | "fetch-to";

export interface CliCommand {
  readonly name: string;
  /** How the command is typed, and what it does: one line each in the usage text. */
  readonly usage: readonly (readonly [synopsis: string, what: string])[];
  readonly options: readonly OptionName[];
  run(ctx: CliContext): Promise<Outcome>;
}

export interface Outcome {
  /** --dry-run: the steps a run would take, printed instead of a summary. */
  plan?: PlannedStep[];
  result?: unknown;
  /** Lines for humans; --json prints `result` instead. */
  summary: string[];
  /** The command did its main work but something asked of it failed: reported, and the exit code is 1. */
  problem?: { kind: string; message: string };
}
