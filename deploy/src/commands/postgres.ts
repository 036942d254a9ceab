/**
 * Postgres client commands as data. The connection comes from a URL held in the environment at run
 * time and is handed to the tools as PG* variables, so the password never appears in an argv.
 */
import path from "node:path";
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

/** Custom format: compressed, and pg_restore can list and restore it selectively. */
export function pgDump(tools: Tools, conn: Connection, file: string, snapshot: string | null): Command {
  const argv: Argv = [
    tool(tools.binDir, "pg_dump"),
    "--format=custom",
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
