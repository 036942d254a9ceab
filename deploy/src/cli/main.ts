/**
 * shipyard: set up, deploy, roll back, back up, restore and inspect an environment from any machine.
 *   npm run shipyard -- deploy --env=staging --image=NAME@sha256:… [--dry-run] [--json]
 * This reads the command line, loads the environment, runs one command (cli/<group>.ts) in a context that
 * opens and closes its runners (context.ts), and prints the outcome (output.ts). Exit codes: 0 done,
 * 1 the work failed (or part of it, reported), 2 a mistake in the command line or the environments file.
 */
import { fileURLToPath } from "node:url";
import { ConfigError, loadEnvironment } from "../config/environments.js";
import { SIGNAL_EXIT_CODES } from "../interrupts.js";
import { Progress } from "../progress.js";
import { DeployFailed } from "../release/release.js";
import { NO_OPTIONS, type Options, parseCommandLine } from "./args.js";
import { backupCommand, backupsCommand, restoreCommand, uploadCommand } from "./backup.js";
import type { CliCommand } from "./command.js";
import { withContext } from "./context.js";
import { lockCommand } from "./lock.js";
import { printFailure, printOutcome } from "./output.js";
import { deployCommand, rollbackCommand } from "./release.js";
import { setupCommand } from "./setup.js";
import { releasesCommand, statusCommand } from "./status.js";
import { commandUsage, UsageError, usage } from "./usage.js";

/** In the order an unknown command's message lists them. */
const COMMANDS: readonly CliCommand[] = [
  setupCommand,
  deployCommand,
  rollbackCommand,
  backupCommand,
  uploadCommand,
  restoreCommand,
  backupsCommand,
  releasesCommand,
  lockCommand,
  statusCommand,
];

const defaultConfig = () =>
  process.env.SHIPYARD_ENVIRONMENTS ?? fileURLToPath(new URL("../../environments.yaml", import.meta.url));

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let options: Options = NO_OPTIONS;
  let name = "";
  const progress = new Progress();
  try {
    const parsed = parseCommandLine(argv);
    options = parsed.values;
    const [first, subcommand] = parsed.positionals;
    const command = COMMANDS.find((c) => c.name === first);
    if (options.help || !first) {
      process.stdout.write(`${command ? commandUsage(command) : usage(COMMANDS)}\n`);
      return options.help ? 0 : 2;
    }
    name = first;
    if (!command)
      throw new UsageError(
        `unknown command "${first}"; valid commands: ${COMMANDS.map((c) => c.name).join(", ")}`,
      );
    const environment = await loadEnvironment(options.config ?? defaultConfig(), options.env);
    // The one place a command runs, its runners open around it (deploy and rollback handle interrupts).
    const outcome = await withContext(environment, options, subcommand, progress, (ctx) => command.run(ctx));
    printOutcome(name, options, outcome, progress, elapsed());
    return outcome.problem ? 1 : 0;
  } catch (error) {
    printFailure(name, options, error as Error, progress, elapsed());
    // Interrupted and undone: the exit code a shell expects of a run its signal ended (130, 143).
    if (error instanceof DeployFailed && error.signal) return SIGNAL_EXIT_CODES[error.signal] ?? 1;
    return error instanceof UsageError || error instanceof ConfigError ? 2 : 1;
  }
}
