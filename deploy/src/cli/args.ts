/**
 * The command line as the CLI reads it: `--name=value` (or `--name value`) flags and words. Node's
 * parseArgs reads the line (strict off, so it reports rather than throws, and with its tokens, so each
 * flag comes with how it was typed); this module only judges what it read, so that every mistake gets
 * one line of its own that names the flag or word: an unknown flag (with the nearest known one), a short
 * flag, a flag given twice, a value given to a switch, a missing value. parseArgs in strict mode would
 * refuse these too, but with its own wording and no "did you mean".
 * Then `checkFits` holds the line against the command it names: flags it does not take, stray words.
 * Words after `--` are not read at all: they are a command the CLI passes on (`exec -- psql -U app`).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
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
  "service",
  "since",
  "tail",
] as const;
const SWITCHES = ["no-backup", "dry-run", "json", "help", "follow"] as const;
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
  /** The words after `--`, as typed (undefined: no `--`): a command to pass on, never read as flags. */
  passed: string[] | undefined;
}

/** What a command line that could not be parsed counts as, for the envelope of its error. */
export const NO_OPTIONS: Options = {
  "dry-run": false,
  json: false,
  help: false,
  "no-backup": false,
  follow: false,
};

/** The line before its `--`: what the CLI reads; the rest is passed on as typed. */
export const beforeDashes = (argv: readonly string[]): readonly string[] => {
  const dashes = argv.indexOf("--");
  return dashes === -1 ? argv : argv.slice(0, dashes);
};

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

/** What parseArgs is told: which flags take a value, which are switches, and `-h` for --help. */
const PARSE_OPTIONS: NonNullable<ParseArgsConfig["options"]> = {
  ...Object.fromEntries(VALUED.map((name) => [name, { type: "string" }])),
  ...Object.fromEntries(SWITCHES.map((name) => [name, { type: "boolean" }])),
  help: { type: "boolean", short: "h" },
};

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const dashes = argv.indexOf("--");
  const passed = dashes === -1 ? undefined : argv.slice(dashes + 1);
  const { tokens, positionals } = parseArgs({
    args: [...beforeDashes(argv)],
    options: PARSE_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Options = { ...NO_OPTIONS };
  const given: FlagName[] = [];
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    // The word as typed: parseArgs splits `-force` into -f, -o, …, and the message names what was typed.
    const typed = argv[token.index] as string;
    // -h alone is --help; in a group (`-he`) parseArgs also reports a -h, but the word is a short flag.
    if (typed === "-h") {
      values.help = true;
      continue;
    }
    if (!token.rawName.startsWith("--")) throw shortFlag(typed);
    const { name } = token;
    if (!isFlag(name)) {
      const hint = didYouMean(name, FLAGS, dashed);
      throw new UsageError(`unknown flag --${name}${hint || LIST_HINT}`);
    }
    if (given.includes(name)) {
      const first = isValued(name) ? `--${name}=${values[name]}` : `--${name}`;
      throw new UsageError(`--${name} is given twice (${first}, then ${typed}); give it once`);
    }
    given.push(name);
    if (!isValued(name)) {
      if (token.inlineValue) throw new UsageError(`--${name} takes no value (got ${typed})`);
      values[name] = true;
      continue;
    }
    // parseArgs takes the next word whatever it is (`--env --json`); a flag is not a value, so that is none.
    const missing = !token.value || (!token.inlineValue && token.value.startsWith("-"));
    if (missing) throw new UsageError(`--${name} needs a value: --${name}=${placeholder(name)}`);
    values[name] = token.value;
  }
  return { values, positionals, given, passed };
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
  service: "app",
  since: "10m",
  tail: "N",
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
  if (stray !== undefined && command.passes)
    throw new UsageError(
      `unexpected word "${stray}" before --: the command to run goes after it, as in shipyard ${command.name} --env=NAME -- ${stray} …`,
    );
  // A command that passes none on: words after `--` are as stray as any other.
  const strayPassed = command.passes ? undefined : line.passed?.[0];
  if (stray !== undefined || strayPassed !== undefined)
    throw new UsageError(
      `unexpected word "${stray ?? strayPassed}" after ${[command.name, ...words.slice(0, taken)].join(" ")}: ` +
        "it takes flags only (--name=value)",
    );
  if (command.passes && !line.passed?.length)
    throw new UsageError(
      `${command.name} needs a command to run, after --: shipyard ${command.name} --env=NAME -- ${command.passes}`,
    );
}

/** How many ledger lines (and backups) `releases` and `status` show. */
export function limitOption(options: Options): number {
  const limit = Number(options.limit ?? 10);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer (got ${options.limit})`);
  return limit;
}
