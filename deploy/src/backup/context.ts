/** What every backup, import and restore works with: the environment, its connections, runners and paths. */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { compose } from "../commands/compose.js";
import type { Connection, ServiceContainer, Tools } from "../commands/postgres.js";
import { stackServiceContainer } from "../commands/swarm.js";
import type { Environment } from "../config/environments.js";
import type { Progress } from "../progress.js";
import type { Runner } from "../runner.js";
import type { Exec } from "../steps.js";
import { countRows, holdSnapshot } from "./table-counts.js";

/** The queries made in process (node-postgres) rather than through a tool; a test can stand in for them. */
export interface Queries {
  holdSnapshot: typeof holdSnapshot;
  countRows: typeof countRows;
}

export const POSTGRES_QUERIES: Queries = { holdSnapshot, countRows };

export interface BackupContext {
  environment: Environment;
  conn: Connection;
  tools: Tools;
  /** Runs the Postgres and age tools; they run where the CLI runs and reach the database by URL. */
  runner: Runner;
  /** The server the verification restores into a scratch database on; default: the source's server. */
  scratch?: Connection;
  /**
   * The environment's host, where pg_dump runs in the Postgres container (database.dumpFrom:
   * compose-service); when left out, one is opened for the dump and closed after.
   */
  host?: Runner;
  progress: Progress;
  /** Resolved backup directory: here, or on the host for backups kept on the server (backupsOnServer). */
  directory: string;
  now?: () => Date;
  /** Where the off-site store's credentials are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Default: node-postgres against the servers above. */
  queries?: Queries;
}

/** Where a backup's files go while it is made and once it is stored, and the name of its scratch database. */
export interface Paths {
  id: string;
  /** The dump as it is written and checked; it never outlives a failure. */
  partial: string;
  stored: string;
  scratch: string;
  /** The throw-away container that checks a dump kept on the server: random, so two checks never meet. */
  throwaway: string;
}

export function pathsFor(ctx: BackupContext, id: string): Paths {
  const encrypted = ctx.environment.backup.encryptTo.length > 0;
  // The host's paths are POSIX whatever this machine is.
  const join = backupsOnServer(ctx.environment) ? path.posix.join : path.join;
  return {
    id,
    partial: join(ctx.directory, `${id}.dump.partial`),
    stored: join(ctx.directory, `${id}.dump${encrypted ? ".age" : ""}`),
    // Postgres folds unquoted names to lower case and allows 63 bytes.
    scratch: `shipyard_verify_${id.replaceAll("-", "_")}`.slice(0, 63),
    throwaway: `shipyard-verify-${randomBytes(6).toString("hex")}`,
  };
}

/** Made, verified, catalogued and pruned on the host (backup.where: server), not here. */
export const backupsOnServer = (environment: Environment) => environment.backup.where === "server";

export const dumpsInContainer = (environment: Environment) =>
  environment.database.dumpFrom === "compose-service";

/**
 * The environment's Postgres service: on a single server with the same compose invocation every release
 * step uses; on a swarm, its task on the data node (the manager the CLI reaches).
 */
export function postgresContainer(environment: Environment): ServiceContainer {
  const service = environment.database.service ?? "postgres";
  if (environment.target.kind === "swarm") return stackServiceContainer(environment.compose.project, service);
  const prefix = compose(environment, []).argv;
  return { exec: [...prefix, "exec", "-T", service], id: [...prefix, "ps", "--quiet", service], service };
}

/**
 * How a backup's steps run: commands on the host (the container's psql, pg_dump, pg_restore) through
 * `host`, everything else (the Postgres and age tools, df) here through the context's runner.
 */
export function execFor(ctx: BackupContext, host: Runner | undefined): Exec {
  return { runner: host ?? ctx.runner, local: ctx.runner, progress: ctx.progress };
}
