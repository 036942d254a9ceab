/**
 * The one place that decides how the CLI exits (docs/deploy.md has the table): 0 done; 1 the work failed,
 * or part of it (reported); 2 a mistake in the command line, the environments file or the run-time
 * variables, found before anything was done; 130 and 143 a release interrupted by SIGINT or SIGTERM, and
 * undone (interrupts.ts exits with the same codes on a third signal). `exec` exits with its command's
 * code, and `logs` with 130/143 when a signal ends it: the outcome's exitCode.
 */
import { ConfigError } from "../config/environments.js";
import { SIGNAL_EXIT_CODES } from "../interrupts.js";
import { UsageError } from "../mistakes.js";
import { DeployFailed } from "../release/release.js";
import type { Outcome } from "./command.js";

export const EXIT = { done: 0, failed: 1, usage: 2 } as const;

/** An operator's mistake, as opposed to a failure of the work: nothing was attempted, and the fix is theirs. */
export const isMistake = (error: unknown): boolean =>
  error instanceof UsageError || error instanceof ConfigError;

export function exitCodeFor(ended: { outcome: Outcome } | { error: unknown }): number {
  if ("outcome" in ended) {
    const { outcome } = ended;
    return outcome.exitCode ?? (outcome.problem ? EXIT.failed : EXIT.done);
  }
  const { error } = ended;
  // Interrupted and undone: the exit code a shell expects of a run its signal ended.
  if (error instanceof DeployFailed && error.signal) return SIGNAL_EXIT_CODES[error.signal] ?? EXIT.failed;
  return isMistake(error) ? EXIT.usage : EXIT.failed;
}
