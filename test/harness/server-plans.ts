/**
 * Pure plans for the throw-away servers the tests use: which binaries, which argv, which config.
 * Nothing here starts a process, so the plans are unit-tested on their own.
 */
import path from "node:path";

export type Argv = readonly [file: string, ...args: string[]];

export interface PostgresPlanInput {
  /** Directory holding initdb/postgres/pg_isready, or null to find them on PATH. */
  binDir: string | null;
  dataDir: string;
  socketDir: string;
  passwordFile: string;
  port: number;
  /** Postgres refuses to run as root, so when we are root it runs as this user. */
  runAsUser: string | null;
}

export interface PostgresPlan {
  initdb: Argv;
  server: Argv;
  isReady: Argv;
}

const bin = (binDir: string | null, name: string): string => (binDir ? path.join(binDir, name) : name);

/**
 * The server dies with its parent (the test runner), even when the runner is killed,
 * because setpriv sets PR_SET_PDEATHSIG before exec. SIGINT is Postgres' fast shutdown.
 */
export function asChildOfRunner(argv: Argv, opts: { runAsUser: string | null; deathSignal: string }): Argv {
  const identity = opts.runAsUser
    ? [`--reuid=${opts.runAsUser}`, `--regid=${opts.runAsUser}`, "--init-groups"]
    : [];
  return ["setpriv", ...identity, `--pdeathsig=${opts.deathSignal}`, "--", ...argv];
}

export function postgresPlan(input: PostgresPlanInput): PostgresPlan {
  const initdb: Argv = [
    bin(input.binDir, "initdb"),
    `--pgdata=${input.dataDir}`,
    "--username=postgres",
    `--pwfile=${input.passwordFile}`,
    "--auth=scram-sha-256",
    "--encoding=UTF8",
    "--no-locale",
    "--no-sync",
    "--no-instructions",
  ];
  const server: Argv = [
    bin(input.binDir, "postgres"),
    "-D",
    input.dataDir,
    "-p",
    String(input.port),
    "-k",
    input.socketDir,
    "-c",
    "listen_addresses=127.0.0.1",
    // Durability is pointless for a database that is deleted after the run; these make it fast.
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
  ];
  return {
    initdb: asChildOfRunner(initdb, { runAsUser: input.runAsUser, deathSignal: "KILL" }),
    server: asChildOfRunner(server, { runAsUser: input.runAsUser, deathSignal: "INT" }),
    isReady: [bin(input.binDir, "pg_isready"), "-h", "127.0.0.1", "-p", String(input.port), "-t", "1"],
  };
}

/** Newest `/usr/lib/postgresql/<major>/bin` (Debian's layout); PG_BIN_DIR wins; otherwise PATH. */
export function choosePostgresBinDir(env: NodeJS.ProcessEnv, debianMajors: readonly string[]): string | null {
  if (env.PG_BIN_DIR) return env.PG_BIN_DIR;
  const newest = [...debianMajors].filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  return newest ? `/usr/lib/postgresql/${newest}/bin` : null;
}

export interface RedisPlanInput {
  port: number;
  dir: string;
  password: string;
}

/** Redis reads this from stdin (`redis-server -`), so the password never shows in `ps`. */
export function redisConfig(input: RedisPlanInput): string {
  return [
    `port ${input.port}`,
    "bind 127.0.0.1",
    `dir ${input.dir}`,
    `requirepass ${input.password}`,
    'save ""',
    "appendonly no",
    "daemonize no",
    "",
  ].join("\n");
}

export function redisServerArgv(): Argv {
  return asChildOfRunner(["redis-server", "-"], { runAsUser: null, deathSignal: "TERM" });
}

export interface ExternalBackends {
  mode: "external";
  databaseUrl: string;
  redisUrl: string;
}

/**
 * Tests truncate tables and flush Redis. An external database is used only when its name ends in
 * `_test`, so a DATABASE_URL left in a shell that points at real data is refused, not wiped.
 */
export function chooseTestBackends(env: NodeJS.ProcessEnv): ExternalBackends | { mode: "ephemeral" } {
  const { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl } = env;
  if (!databaseUrl && !redisUrl) return { mode: "ephemeral" };
  if (!databaseUrl || !redisUrl) {
    throw new Error(
      `Set both DATABASE_URL and REDIS_URL to run the tests against your own servers, or neither to let the ` +
        `tests start throw-away ones (only ${databaseUrl ? "DATABASE_URL" : "REDIS_URL"} is set).`,
    );
  }
  let dbName: string;
  try {
    dbName = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ""));
  } catch {
    throw new Error(
      "DATABASE_URL is not a valid URL (expected postgres://user:password@host:5432/name_test).",
    );
  }
  if (!dbName.endsWith("_test")) {
    throw new Error(
      `Refusing to run tests against database "${dbName}": the tests delete data, so an external DATABASE_URL ` +
        `must name a database ending in "_test". Unset DATABASE_URL and REDIS_URL to use throw-away servers.`,
    );
  }
  return { mode: "external", databaseUrl, redisUrl };
}
