/**
 * Postgres client commands as data. The connection comes from a URL held in the environment at run
 * time and is handed to the tools as PG* variables, so the password never appears in an argv.
 */
import path from "node:path";
import { z } from "zod";
import type { Argv, Command } from "./argv.js";

export interface Connection {
  host: string;
  port: string;
  user: string;
  password: string;
  database: string;
  sslmode: string | undefined;
}

export function parseDatabaseUrl(url: string, variable: string): Connection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${variable} is not a valid URL (expected postgres://user:password@host:5432/name)`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new Error(`${variable} must start with postgres:// (got ${parsed.protocol}//)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!database) throw new Error(`${variable} names no database (expected postgres://…/name)`);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port || "5432",
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    sslmode: parsed.searchParams.get("sslmode") ?? undefined,
  };
}

/** PG* variables for one database on the connection's server. */
export function pgEnv(conn: Connection, database: string): Record<string, string> {
  return {
    PGHOST: conn.host,
    PGPORT: conn.port,
    PGUSER: conn.user,
    PGPASSWORD: conn.password,
    PGDATABASE: database,
    ...(conn.sslmode ? { PGSSLMODE: conn.sslmode } : {}),
    // No ~/.pgpass or service file of the operator's can redirect the tools elsewhere.
    PGPASSFILE: "/dev/null",
    PGSERVICEFILE: "/dev/null",
  };
}

const tool = (binDir: string | null, name: string) => (binDir ? path.join(binDir, name) : name);

export interface Tools {
  binDir: string | null;
}

/**
 * How every dump is compressed: zlib level 1. On bench/backup's 1 GB of mixed rows, level 1 dumps in 8 s
 * where pg_dump's default (level 6) takes 19 s, for a file 5 % larger (327 MB against 310 MB): a verified
 * backup, and the deploy behind it, waits on the dump's CPU far more than a disk misses 5 %.
 */
export const DUMP_COMPRESSION = "--compress=1";

/** Custom format: compressed, and pg_restore can list and restore it selectively. */
export function pgDump(tools: Tools, conn: Connection, file: string, snapshot: string | null): Command {
  const argv: Argv = [
    tool(tools.binDir, "pg_dump"),
    "--format=custom",
    DUMP_COMPRESSION,
    "--no-password",
    `--file=${file}`,
    ...(snapshot ? [`--snapshot=${snapshot}`] : []),
    `--dbname=${conn.database}`,
  ];
  return { argv, env: pgEnv(conn, conn.database) };
}

export function createDatabase(tools: Tools, conn: Connection, name: string): Command {
  return {
    argv: [tool(tools.binDir, "createdb"), "--no-password", "--maintenance-db=postgres", name],
    env: pgEnv(conn, "postgres"),
  };
}

export function dropDatabase(tools: Tools, conn: Connection, name: string): Command {
  return {
    argv: [
      tool(tools.binDir, "dropdb"),
      "--no-password",
      "--if-exists",
      "--force",
      "--maintenance-db=postgres",
      name,
    ],
    env: pgEnv(conn, "postgres"),
  };
}

/**
 * --single-transaction: a restore that fails halfway changes nothing. --clean --if-exists: the
 * dump's objects replace the current ones. --no-owner: objects belong to the restoring user, so a
 * role that exists only on the source server cannot fail the restore.
 */
export function pgRestore(
  tools: Tools,
  conn: Connection,
  file: string,
  database: string,
  mode: "into-empty" | "replace",
): Command {
  const argv: Argv = [
    tool(tools.binDir, "pg_restore"),
    "--no-password",
    "--exit-on-error",
    "--single-transaction",
    "--no-owner",
    ...(mode === "replace" ? ["--clean", "--if-exists"] : []),
    `--dbname=${database}`,
    file,
  ];
  return { argv, env: pgEnv(conn, database) };
}

/** The archive's table of contents; its header names the database the dump was taken from. */
export function pgRestoreList(tools: Tools, file: string): Command {
  return { argv: [tool(tools.binDir, "pg_restore"), "--list", file] };
}

export function dumpedDatabase(listing: string): string {
  const name = /^;\s+dbname: (.+)$/m.exec(listing)?.[1]?.trim();
  if (!name) throw new Error("the archive's table of contents names no database");
  return name;
}

/**
 * The Postgres service's running container on the host, reached through the same runner as every other
 * host command: by compose on a single server, by its Swarm service's label on a swarm's data node.
 */
export interface ServiceContainer {
  /** Runs the argv appended to it inside the container, stdin attached (`compose exec -T SERVICE`). */
  exec: Argv;
  /** Prints the running container's id (`compose ps --quiet SERVICE`). */
  id: Argv;
  /** The service's name, for messages. */
  service: string;
}

/** Marks the one stderr line that carries the snapshot's row counts (hex-encoded JSON). */
export const COUNTS_MARKER = "SHIPYARD-COUNTS";
/** Marks pg_dump's exit status: psql before 16 does not fail when a `\!` command fails. */
export const DUMP_EXIT_MARKER = "SHIPYARD-DUMP-EXIT";

/** Every table's exact row count in one statement (query_to_xml counts each), as hex-encoded JSON. */
const COUNTS_QUERY = `SELECT encode(convert_to(json_build_object(
    'database', current_database(),
    'tables', coalesce(json_agg(json_build_object('table', schema || '.' || name, 'rows', rows) ORDER BY schema, name), '[]')
  )::text, 'UTF8'), 'hex') AS shipyard_counts
FROM (
  SELECT n.nspname AS schema, c.relname AS name,
    (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint AS rows
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
) t`;

/**
 * Run by psql inside the container. One read-only REPEATABLE READ transaction exports its snapshot,
 * counts every table (query_to_xml runs each count in that same snapshot) and keeps the snapshot
 * alive while pg_dump dumps exactly it, so the counts and the dump describe the same moment.
 * The dump is pg_dump's stdout, which `\!` inherits: psql itself prints nothing there (--quiet,
 * \gset, \o /dev/null). Counts and pg_dump's exit status go to stderr as marked lines.
 */
export const CONTAINER_DUMP_SCRIPT = `\\set ON_ERROR_STOP on
\\o /dev/null
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT pg_export_snapshot() AS shipyard_snapshot \\gset
${COUNTS_QUERY} \\gset
\\warn ${COUNTS_MARKER} :shipyard_counts
\\setenv SHIPYARD_SNAPSHOT :shipyard_snapshot
\\! pg_dump --format=custom ${DUMP_COMPRESSION} --no-password --snapshot="$SHIPYARD_SNAPSHOT" --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"; echo "${DUMP_EXIT_MARKER} $?" >&2
COMMIT;
`;

/**
 * pg_dump inside the stack's Postgres container, for servers that are never published. It connects
 * over the container's own socket as the container's own POSTGRES_USER/POSTGRES_DB, so no
 * credential leaves the container or appears in an argv; the dump streams back as stdout.
 */
export function containerDump(target: ServiceContainer, file: string): Command {
  return { argv: inContainer(target, PSQL), stdin: CONTAINER_DUMP_SCRIPT, stdoutFile: file };
}

/** Credentials are expanded by the container's shell from the container's own environment. */
const PSQL =
  'exec psql --no-psqlrc --quiet --no-password --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"';

function inContainer(target: ServiceContainer, shellCommand: string): Argv {
  return [...target.exec, "sh", "-c", shellCommand];
}

/**
 * pg_restore inside the container, reading the dump from stdin (the local file, streamed in over the
 * runner), with the same guarantees as pgRestore's "replace": one transaction, owned by the restoring user.
 */
export function containerRestore(target: ServiceContainer, file: string): Command {
  return {
    argv: inContainer(
      target,
      'exec pg_restore --no-password --exit-on-error --single-transaction --no-owner --clean --if-exists --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"',
    ),
    stdinFile: file,
  };
}

/** Marks the line that carries the database's size in bytes. */
export const SIZE_MARKER = "SHIPYARD-SIZE";

/** pg_database_size of the connected database, printed as one marked line (psql --quiet prints nothing else). */
const SIZE_SCRIPT = `\\set ON_ERROR_STOP on
SELECT pg_database_size(current_database()) AS shipyard_size \\gset
\\echo ${SIZE_MARKER} :shipyard_size
`;

/** The database's size on disk, read by psql over the connection pg_dump uses; parse with parseDatabaseSize. */
export function databaseSize(tools: Tools, conn: Connection): Command {
  return {
    argv: [tool(tools.binDir, "psql"), "--no-psqlrc", "--quiet", "--no-password"],
    env: pgEnv(conn, conn.database),
    stdin: SIZE_SCRIPT,
  };
}

/** The same, read inside the container as the container dump connects. */
export function containerDatabaseSize(target: ServiceContainer): Command {
  return { argv: inContainer(target, PSQL), stdin: SIZE_SCRIPT };
}

export function parseDatabaseSize(stdout: string): number {
  const line = stdout.split("\n").find((l) => l.trim().startsWith(`${SIZE_MARKER} `));
  const bytes = Number(line?.trim().slice(SIZE_MARKER.length + 1));
  if (!line || !Number.isSafeInteger(bytes) || bytes < 0)
    throw new Error(`psql reported no database size: ${JSON.stringify(stdout.trim())}`);
  return bytes;
}

/** For psql on stdin: the connected database's exact row counts on one marked line (parseContainerCounts). */
export const COUNTS_SCRIPT = `\\set ON_ERROR_STOP on\n${COUNTS_QUERY} \\gset\n\\echo ${COUNTS_MARKER} :shipyard_counts\n`;

/** The database's exact row counts, read inside the container; parse the stdout with parseContainerCounts. */
export function containerCounts(target: ServiceContainer): Command {
  return { argv: inContainer(target, PSQL), stdin: COUNTS_SCRIPT };
}

export function parseContainerCounts(stdout: string): ContainerDumpReport {
  return parseCountsLine(
    stdout.split("\n").map((line) => line.trim()),
    stdout,
  );
}

const containerDumpReport = z.strictObject({
  database: z.string().min(1),
  tables: z.array(z.strictObject({ table: z.string(), rows: z.number().int().min(0) })),
});

export type ContainerDumpReport = z.infer<typeof containerDumpReport>;

/** Reads the marked lines of a container dump's stderr; anything missing or non-zero means no usable dump. */
export function parseContainerDumpReport(stderr: string): ContainerDumpReport {
  const lines = stderr.split("\n").map((line) => line.trim());
  const exit = lines.find((line) => line.startsWith(`${DUMP_EXIT_MARKER} `));
  if (exit === undefined) throw new Error(`pg_dump in the container did not run:\n${stderr.trim()}`);
  if (exit !== `${DUMP_EXIT_MARKER} 0`) {
    throw new Error(
      `pg_dump in the container failed (exit ${exit.slice(DUMP_EXIT_MARKER.length + 1)}):\n${stderr.trim()}`,
    );
  }
  return parseCountsLine(lines, stderr);
}

function parseCountsLine(lines: readonly string[], output: string): ContainerDumpReport {
  const counts = lines.find((line) => line.startsWith(`${COUNTS_MARKER} `));
  if (counts === undefined) throw new Error(`the container reported no row counts:\n${output.trim()}`);
  const json = Buffer.from(counts.slice(COUNTS_MARKER.length + 1), "hex").toString("utf8");
  const parsed = containerDumpReport.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`the container's row counts are not as expected: ${json}`);
  return parsed.data;
}
