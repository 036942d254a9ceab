/**
 * What `shipyard` prints when asked how to use it: every command (no command, or --help), or one command
 * (`shipyard deploy --help`). Each command brings its own lines (CliCommand.usage); this lays them out.
 */
import type { CliCommand, OptionName } from "./command.js";

/** A mistake in the command line: exit code 2, where a failure of the work itself is 1. */
export class UsageError extends Error {
  override name = "UsageError";
}

const OPTIONS: Record<"env" | "config" | OptionName, [flag: string, text: string]> = {
  env: ["--env=NAME", "environment from the environments file (required)"],
  config: [
    "--config=PATH",
    "environments file (default: $SHIPYARD_ENVIRONMENTS or deploy/environments.yaml)",
  ],
  "dry-run": ["--dry-run", "print the plan (every command with its arguments) and do nothing"],
  json: ["--json", "machine-readable summary on stdout"],
  release: [
    "--release=NAME",
    "deploy: the release name /version shows and the ledger keeps (default: UTC timestamp)",
  ],
  "no-backup": [
    "--no-backup",
    "deploy/rollback: skip the verified backup before the release (say so consciously)",
  ],
  "fetch-to": [
    "--fetch-to=PATH",
    "backup: also copy the verified file to PATH on this machine (from the server, when kept there)",
  ],
};

const ENVIRONMENT = `environment:
  the variable named by database.urlEnv (e.g. DATABASE_URL)   connection URL of the database
  SHIPYARD_SSH_KEY or SHIPYARD_SSH_KEY_FILE                   private key for ssh environments
  SHIPYARD_AGE_IDENTITY_FILE                                  age identity to restore encrypted backups
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [AWS_SESSION_TOKEN] the store's key, for backup.upload
  SHIPYARD_SCRATCH_DATABASE_URL                               a Postgres server to restore-check backups on
                                                              (default: a scratch database beside the source;
                                                              required when database.dumpFrom is compose-service
                                                              and backup.where is cli)
  PG_BIN_DIR                                                  where pg_dump/pg_restore live (default: PATH)
  SHIPYARD_WHO                                                who to record as lock holder (default: user@host)
  SHIPYARD_CONFIG_SOURCE                                      deploy, setup: the repository whose compose/ and
                                                              nginx/ configuration is shipped, and whose
                                                              compose/.env.example setup fills in (default: this one)`;

const optionLines = (names: readonly ("env" | "config" | OptionName)[]) =>
  names.map((name) => `  ${OPTIONS[name][0].padEnd(16)}${OPTIONS[name][1]}`);

/** The order the full usage lists commands in: setup first, restore beside backup, then what only reads. */
const LISTED = [
  "setup",
  "deploy",
  "rollback",
  "backup",
  "restore",
  "upload",
  "backups",
  "releases",
  "lock",
  "status",
];

/** Every command and option, and the variables the CLI reads. */
export function usage(commands: readonly CliCommand[]): string {
  const listed = [...commands].sort((a, b) => LISTED.indexOf(a.name) - LISTED.indexOf(b.name));
  return [
    "usage: shipyard <command> --env=NAME [options]",
    "",
    "commands:",
    ...listed.flatMap((c) => c.usage.map(([synopsis, what]) => `  ${synopsis.padEnd(26)}  ${what}`)),
    "",
    "options:",
    ...optionLines(["env", "config", "dry-run", "json", "release", "no-backup", "fetch-to"]),
    "",
    ENVIRONMENT,
  ].join("\n");
}

/** One command: how it is typed, what it does, and the options it takes. */
export function commandUsage(command: CliCommand): string {
  return [
    ...command.usage.flatMap(([synopsis, what]) => [
      `usage: shipyard ${synopsis} --env=NAME [options]`,
      `  ${what}`,
    ]),
    "",
    "options:",
    ...optionLines(["env", "config", ...command.options]),
    "",
    "`shipyard --help` lists every command and the environment variables the CLI reads.",
  ].join("\n");
}
