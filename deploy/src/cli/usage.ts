/**
 * What `shipyard` prints when asked how to use it: every command (no command, `--help`, `help`), or one
 * command with its flags and examples (`shipyard deploy --help`, `shipyard help deploy`). Each command
 * brings its own lines (CliCommand.usage, .examples); this lays them out.
 */
import type { CliCommand, OptionName } from "./command.js";

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
  image: ["--image=NAME@sha256:…", "deploy: the image to release, pinned by its digest (required)"],
  to: ["--to=RELEASE", "rollback: the release to bring back (default: the newest earlier one)"],
  backup: ["--backup=ID", "the catalogued backup (list them with `shipyard backups --env=NAME`)"],
  file: ["--file=PATH", "restore: a pg_dump custom-format file made elsewhere, instead of --backup"],
  confirm: ["--confirm=NAME", "restore: the environment's name, where it requires confirmation"],
  limit: ["--limit=N", "how many releases (and backups), or audit records, to show (default: 10)"],
  service: ["--service=NAME", "logs, exec: app, nginx, postgres or redis (default: app)"],
  follow: ["--follow", "logs: keep streaming new lines until Ctrl-C"],
  since: [
    "--since=WHEN",
    "logs: lines since a duration ago (10m, 1h30m) or an RFC 3339 time (2026-11-23T10:00:00Z)",
  ],
  tail: ["--tail=N", "logs: the last N lines, or all (default: 100, 10 with --follow, all with --since)"],
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
  SHIPYARD_WHO                                                who to record as lock holder and in the audit log
                                                              (default: user@host)
  the variable named by notify.webhookUrlEnv                  the webhook's URL, for notifications
  SHIPYARD_CONFIG_SOURCE                                      deploy, setup: the repository whose compose/ and
                                                              nginx/ configuration is shipped, and whose
                                                              compose/.env.example setup fills in (default: this one)
  SHIPYARD_PROGRESS                                           the live line of dumps, restores, uploads, fetches
                                                              and pulls: auto (on a terminal, the default),
                                                              always, never; --json never draws it`;

const optionLines = (names: readonly ("env" | "config" | OptionName)[]) => {
  const width = Math.max(16, ...names.map((name) => OPTIONS[name][0].length + 1));
  return names.map((name) => `  ${OPTIONS[name][0].padEnd(width)}${OPTIONS[name][1]}`);
};

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
  "audit",
  "logs",
  "exec",
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
    "",
    "`shipyard help <command>` (or `shipyard <command> --help`) shows one command, its flags and examples.",
    "exit codes: 0 done, 1 the work failed, 2 a mistake in the command line or the environments file,",
    "130/143 interrupted by SIGINT/SIGTERM (and undone); exec exits with its command's code.",
  ].join("\n");
}

/** A synopsis with the flags every command takes, which go before a command passed on after `--`. */
function typed(synopsis: string): string {
  const [flags, passed] = synopsis.split(" -- ");
  return `shipyard ${flags} --env=NAME [options]${passed === undefined ? "" : ` -- ${passed}`}`;
}

/** One command: how it is typed, what it does, and the options it takes. */
export function commandUsage(command: CliCommand): string {
  return [
    ...command.usage.flatMap(([synopsis, what]) => [`usage: ${typed(synopsis)}`, `  ${what}`]),
    "",
    "options:",
    ...optionLines(["env", "config", ...command.options]),
    "",
    "examples:",
    ...command.examples.map((example) => `  ${example}`),
    "",
    "`shipyard --help` lists every command and the environment variables the CLI reads.",
  ].join("\n");
}
