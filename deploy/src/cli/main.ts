/**
 * shipyard: set up, deploy, roll back, back up, restore and inspect an environment from any machine.
 *   npm run shipyard -- deploy --env=staging --image=NAME@sha256:… [--dry-run] [--json]
 * This reads the command line and holds it against the command it names (args.ts), loads the environment,
 * runs the command (cli/<group>.ts) in a context that opens and closes its runners (context.ts), records
 * an operation on the environment in the host's audit log and to its webhook (record.ts), prints
 * the outcome (output.ts), and exits with the code exit-codes.ts decides.
 */
import { fileURLToPath } from "node:url";
import { loadEnvironment } from "../config/environments.js";
import { UsageError } from "../mistakes.js";
import { Progress } from "../progress.js";
import { didYouMean } from "../suggest.js";
import { drawsLive, PROGRESS_VARIABLE } from "../transfer.js";
import { beforeDashes, checkFits, NO_OPTIONS, type Options, parseCommandLine } from "./args.js";
import { auditCommand } from "./audit.js";
import { backupCommand, backupsCommand, restoreCommand, uploadCommand } from "./backup.js";
import type { CliCommand } from "./command.js";
import { withContext } from "./context.js";
import { execCommand } from "./exec.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { lockCommand } from "./lock.js";
import { logsCommand } from "./logs.js";
import { printFailure, printOutcome } from "./output.js";
import { runRecorded } from "./record.js";
import { deployCommand, rollbackCommand } from "./release.js";
import { setupCommand } from "./setup.js";
import { releasesCommand, statusCommand } from "./status.js";
import { commandUsage, usage } from "./usage.js";

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
  auditCommand,
  logsCommand,
  execCommand,
];
const NAMES = COMMANDS.map((c) => c.name);

const defaultConfig = () =>
  process.env.SHIPYARD_ENVIRONMENTS ?? fileURLToPath(new URL("../../environments.yaml", import.meta.url));

function findCommand(word: string): CliCommand {
  const command = COMMANDS.find((c) => c.name === word);
  if (!command)
    throw new UsageError(
      `unknown command "${word}"; valid commands: ${NAMES.join(", ")}${didYouMean(word, NAMES)}`,
    );
  return command;
}

/** `shipyard help [command]`: every command, or one; a word after the command is a stray one. */
function helpText(words: readonly string[]): string {
  const [topic, stray] = words;
  if (stray !== undefined) throw new UsageError(`unexpected word "${stray}" after help ${topic}`);
  return topic === undefined ? usage(COMMANDS) : commandUsage(findCommand(topic));
}

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // Until the line is read: how a mistake in it is reported (--json: in the envelope, with the command).
  // (Words after `--` are exec's command, not the CLI's.)
  let options: Options = { ...NO_OPTIONS, json: beforeDashes(argv).includes("--json") };
  let name = beforeDashes(argv).find((arg) => NAMES.includes(arg)) ?? "";
  let progress = new Progress();
  try {
    const line = parseCommandLine(argv);
    options = line.values;
    const live = drawsLive(options.json, process.stderr.isTTY === true, process.env[PROGRESS_VARIABLE]);
    progress = new Progress(undefined, { live });
    const [first, ...words] = line.positionals;
    if (first === "help") {
      process.stdout.write(`${helpText(words)}\n`);
      return EXIT.done;
    }
    if (first === undefined) {
      process.stdout.write(`${usage(COMMANDS)}\n`);
      return options.help ? EXIT.done : EXIT.usage;
    }
    const command = findCommand(first);
    name = command.name;
    if (options.help) {
      process.stdout.write(`${commandUsage(command)}\n`);
      return EXIT.done;
    }
    checkFits(command, line);
    const environment = await loadEnvironment(options.config ?? defaultConfig(), options.env);
    // The one place a command runs, its runners open around it (deploy and rollback handle interrupts);
    // an operation on the environment ends in its record, kept in the host's audit log and notified.
    const outcome = await withContext(
      environment,
      options,
      { subcommand: words[0], passed: line.passed ?? [] },
      progress,
      (ctx) => runRecorded(command, ctx),
    );
    printOutcome(name, options, outcome, progress, elapsed());
    return exitCodeFor({ outcome });
  } catch (error) {
    printFailure(name, options, error as Error, progress, elapsed());
    return exitCodeFor({ error });
  }
}
