/**
 * The command line as the CLI reads it: `--name=value` (or `--name value`) flags and words, read by hand
 * rather than by node's parseArgs so that every mistake gets one line of its own that names the flag or
 * word: an unknown flag (with the nearest known one), a short flag, a missing value, a flag given twice.
 * Then `checkFits` holds the line against the command it names: flags it does not take, stray words.
 */
import { UsageError } from "../mistakes.js";
import { didYouMean, nearest } from "../suggest.js";
import type { CliCommand } from "./command.js";

/** Flags that take a value, and the flags that are switches. */
const VALUED = [
  "env",
  "config",
  "backup",
  "file",
  "confirm",
  "limit",
  "image",
  "release",
  "to",
  "fetch-to",
] as const;
const SWITCHES = ["no-backup", "dry-run", "json", "help"] as const;
type Valued = (typeof VALUED)[number];
type Switch = (typeof SWITCHES)[number];
export type FlagName = Valued | Switch;
const FLAGS: readonly FlagName[] = [...VALUED, ...SWITCHES];

export type Options = { [F in Valued]?: string } & { [F in Switch]: boolean };

export interface CommandLine {
  values: Options;
  /** The command, then any words after it (`lock status`). */
  positionals: string[];
  /** The flags typed, in order: what `checkFits` holds against the command. */
  given: FlagName[];
}

/** What a command line that could not be parsed counts as, for the envelope of its error. */
export const NO_OPTIONS: Options = { "dry-run": false, json: false, help: false, "no-backup": false };

const isFlag = (name: string): name is FlagName => (FLAGS as readonly string[]).includes(name);
const isValued = (name: FlagName): name is Valued => (VALUED as readonly string[]).includes(name);
const dashed = (name: string) => `--${name}`;
const LIST_HINT = "; `shipyard help` lists every flag";

/** A flag typed with one dash (`-e`, `-force`): the CLI spells every flag out, but -h. */
function shortFlag(arg: string): UsageError {
  const letters = arg.slice(1).split("=")[0] ?? "";
  const meant = FLAGS.find((f) => f !== "help" && f.startsWith(letters)) ?? nearest(letters, FLAGS);
  return new UsageError(
    `unknown flag ${arg}: flags are spelled out, as --name=value` +
      (meant ? `; did you mean --${meant}?` : LIST_HINT),
  );
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const values: Options = { ...NO_OPTIONS };
  const positionals: string[] = [];
  const given: FlagName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      values.help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) throw shortFlag(arg);
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);
    if (!isFlag(name)) {
      const hint = didYouMean(name, FLAGS, dashed);
      throw new UsageError(`unknown flag --${name}${hint || LIST_HINT}`);
    }
    if (given.includes(name)) {
      const first = isValued(name) ? `--${name}=${values[name]}` : `--${name}`;
      throw new UsageError(`--${name} is given twice (${first}, then ${arg}); give it once`);
    }
    given.push(name);
    if (!isValued(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value (got ${arg})`);
      values[name] = true;
      continue;
    }
    const next = argv[i + 1];
    const value = inline ?? (next !== undefined && !next.startsWith("-") ? next : undefined);
    if (inline === undefined && value !== undefined) i++;
    if (!value) throw new UsageError(`--${name} needs a value: --${name}=${placeholder(name)}`);
    values[name] = value;
  }
  return { values, positionals, given };
}

const PLACEHOLDERS: Partial<Record<Valued, string>> = {
  env: "NAME",
  config: "PATH",
  backup: "ID",
  file: "PATH",
  confirm: "NAME",
  limit: "N",
  image: "NAME@sha256:…",
  release: "NAME",
  to: "RELEASE",
  "fetch-to": "PATH",
};
const placeholder = (name: Valued) => PLACEHOLDERS[name] ?? "VALUE";

/** Flags every command takes: which environment, from which file, and help. */
const COMMON: readonly FlagName[] = ["env", "config", "help"];

/** The flags and words `command` takes, and nothing else: anything more was meant for another command. */
export function checkFits(command: CliCommand, line: CommandLine): void {
  const takes: readonly FlagName[] = [...COMMON, ...command.options];
  const foreign = line.given.find((flag) => !takes.includes(flag));
  if (foreign)
    throw new UsageError(
      `--${foreign} does not apply to ${command.name} (it takes ${takes
        .filter((f) => f !== "help")
        .map(dashed)
        .join(", ")})`,
    );
  const words = line.positionals.slice(1);
  const subcommands = command.subcommands ?? [];
  if (subcommands.length > 0) {
    const [sub] = words;
    if (sub === undefined)
      throw new UsageError(`${command.name} needs a subcommand: ${subcommands.join(" or ")}`);
    if (!subcommands.includes(sub))
      throw new UsageError(
        `unknown ${command.name} subcommand "${sub}"; valid: ${subcommands.join(", ")}${didYouMean(sub, subcommands)}`,
      );
  }
  const taken = subcommands.length > 0 ? 1 : 0;
  const stray = words[taken];
  if (stray !== undefined)
    throw new UsageError(
      `unexpected word "${stray}" after ${[command.name, ...words.slice(0, taken)].join(" ")}: ` +
        "it takes flags only (--name=value)",
    );
}

/** How many ledger lines (and backups) `releases` and `status` show. */
export function limitOption(options: Options): number {
  const limit = Number(options.limit ?? 10);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer (got ${options.limit})`);
  return limit;
}
