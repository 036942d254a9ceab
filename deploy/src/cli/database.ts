/**
 * The database a command reaches, from the variable the environment names, and what backups run with:
 * the connection, the scratch server that checks them, the tools and runners.
 */
import path from "node:path";
import { type BackupContext, backupsOnServer, dumpsInContainer } from "../backup/backup.js";
import { type Catalog, localCatalog } from "../backup/catalog.js";
import { serverCatalog } from "../backup/server-catalog.js";
import { type Connection, parseDatabaseUrl } from "../commands/postgres.js";
import type { Environment } from "../config/environments.js";
import { UsageError } from "../mistakes.js";
import type { Runner } from "../runner.js";
import type { CliContext } from "./context.js";

/** A URL the operator set that is not a Postgres URL: their mistake to fix (exit 2), found before any work. */
function connectionFrom(url: string, variable: string): Connection {
  try {
    return parseDatabaseUrl(url, variable);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The database's URL; an environment backed up and restored inside its container never needs one. */
export function connectionFor(environment: Environment, required: boolean): Connection {
  const variable = environment.database.urlEnv;
  const url = process.env[variable];
  if (url) return connectionFrom(url, variable);
  if (required && !dumpsInContainer(environment))
    throw new UsageError(`${variable} is not set: it must hold the database URL of "${environment.name}"`);
  const placeholder = `<database from $${variable}>`;
  return {
    host: placeholder,
    port: "5432",
    user: "",
    password: "",
    database: placeholder,
    sslmode: undefined,
  };
}

const SCRATCH_URL = "SHIPYARD_SCRATCH_DATABASE_URL";

/**
 * Where a backup is restored and counted before it counts; without one, a scratch database beside the
 * source. Backups kept on the server are checked there, in a throw-away container: none is needed.
 */
function scratchServer(environment: Environment, required: boolean): Connection | undefined {
  if (backupsOnServer(environment)) return undefined;
  const url = process.env[SCRATCH_URL];
  if (url) return connectionFrom(url, SCRATCH_URL);
  if (required)
    throw new UsageError(
      `${SCRATCH_URL} is not set: "${environment.name}" dumps inside its Postgres container (database.dumpFrom: compose-service), ` +
        "so the backup is checked on a separate server; set it to a URL whose user may create databases there",
    );
  return undefined;
}

/** Here, resolved from where the CLI runs; on an SSH host, as the environments file spells it. */
export const backupDirectory = (environment: Environment) =>
  backupsOnServer(environment) && environment.target.kind !== "local"
    ? environment.backup.directory
    : path.resolve(environment.backup.directory);

/** The catalog a command reads: here, or on the host (the run's one connection there, opened if need be). */
export async function backupCatalog(ctx: CliContext): Promise<Catalog> {
  const directory = backupDirectory(ctx.environment);
  return backupsOnServer(ctx.environment)
    ? serverCatalog(await ctx.host(), directory)
    : localCatalog(directory);
}

/**
 * `checks`: whether this run restores dumps to check them (not a dry run, not an upload of a made backup).
 * `host`: the host's runner when the command has it open (the dump in the Postgres container runs there).
 */
export function backupContext(
  ctx: CliContext,
  conn: Connection,
  { checks = true, host }: { checks?: boolean; host?: Runner } = {},
): BackupContext {
  const { environment } = ctx;
  const scratch = scratchServer(environment, dumpsInContainer(environment) && checks);
  return {
    environment,
    conn,
    ...(scratch ? { scratch } : {}),
    tools: { binDir: process.env.PG_BIN_DIR || null },
    runner: ctx.local,
    ...(host ? { host } : {}),
    progress: ctx.progress,
    directory: backupDirectory(environment),
  };
}
