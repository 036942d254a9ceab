/** The command line as the CLI reads it: node's parseArgs with every flag any command takes. */
import { parseArgs } from "node:util";
import { UsageError } from "./usage.js";

export function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        env: { type: "string" },
        config: { type: "string" },
        backup: { type: "string" },
        file: { type: "string" },
        confirm: { type: "string" },
        limit: { type: "string" },
        image: { type: "string" },
        release: { type: "string" },
        to: { type: "string" },
        "fetch-to": { type: "string" },
        "no-backup": { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export type Options = ReturnType<typeof parseCommandLine>["values"];

/** What a command line that could not be parsed counts as, for the envelope of its error. */
export const NO_OPTIONS: Options = { "dry-run": false, json: false, help: false, "no-backup": false };

/** Commands that only read the host have nothing to plan. */
export function refuseDryRun(options: Options, command: string): void {
  if (options["dry-run"]) throw new UsageError(`--dry-run applies to backup and restore, not ${command}`);
}

/** How many ledger lines (and backups) `releases` and `status` show. */
export function limitOption(options: Options): number {
  const limit = Number(options.limit ?? 10);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer (got ${options.limit})`);
  return limit;
}
