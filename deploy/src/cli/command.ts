/** What a command of the CLI is: its usage lines, the flags and words it takes, and the work it does. */
import type { PlannedStep } from "../progress.js";
import type { FlagName } from "./args.js";
import type { CliContext } from "./context.js";

/** Flags beyond --env, --config and --help (which every command takes) that a command may take. */
export type OptionName = Exclude<FlagName, "env" | "config" | "help">;

export interface CliCommand {
  readonly name: string;
  /** How the command is typed, and what it does: one line each in the usage text. */
  readonly usage: readonly (readonly [synopsis: string, what: string])[];
  /** The flags it takes, in the order `shipyard <command> --help` lists them; any other is refused. */
  readonly options: readonly OptionName[];
  /** The words it takes after its name (`lock status`), one of which is required; none: it takes none. */
  readonly subcommands?: readonly string[];
  /**
   * It runs a command given after `--` (`exec -- psql`), shown in its usage as this (`CMD [ARGS…]`);
   * unset: words after `--` are refused like any stray word.
   */
  readonly passes?: string;
  /** Whole command lines that `shipyard <command> --help` shows. */
  readonly examples: readonly string[];
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
  /** The exit code of the command it ran for the operator (exec), which the CLI exits with as its own. */
  exitCode?: number;
}
