/**
 * Pure plans for the throw-away servers the tests use: which binaries, which argv, which config.
 * Nothing here starts a process, so the plans are unit-tested on their own.
 */
import { createHash } from "node:crypto";
import path from "node:path";

export type Argv = readonly [file: string, ...args: string[]];

export interface InitdbInput {
  /** Directory holding initdb/postgres, or null to find them on PATH. */
  binDir: string | null;
  dataDir: string;
  /** A throw-away password: every start sets its own (see ephemeral-postgres.ts). */
  passwordFile: string;
  /** Postgres refuses to run as root, so when we are root it runs as this user. */
  runAsUser: string | null;
}

export interface PostgresServerInput {
  binDir: string | null;
  dataDir: string;
  /** The server's Unix socket goes here: a directory only its owner (and root) may enter. */
  socketDir: string;
  port: number;
  runAsUser: string | null;
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

/**
 * A new cluster. TCP logins need the password (scram); the Unix socket trusts whoever reaches it, which
 * is only the server's user and root: it lives in the server's scratch directory, mode 0700. Through it
 * each start sets a password of its own, so a cluster copied from a template shares no secret.
 */
export function initdbArgv(input: InitdbInput): Argv {
  return asChildOfRunner(
    [
      bin(input.binDir, "initdb"),
      `--pgdata=${input.dataDir}`,
      "--username=postgres",
      `--pwfile=${input.passwordFile}`,
      "--auth-host=scram-sha-256",
      "--auth-local=trust",
      "--encoding=UTF8",
      "--no-locale",
      // 1 MB WAL segments instead of 16: the first segment is the largest file a start copies.
      "--wal-segsize=1",
      "--no-sync",
      "--no-instructions",
    ],
    { runAsUser: input.runAsUser, deathSignal: "KILL" },
  );
}

/** Flushes a cluster initdb wrote with --no-sync to disk: a template is kept, so it must survive a crash. */
export function syncClusterArgv(input: Pick<InitdbInput, "binDir" | "dataDir" | "runAsUser">): Argv {
  return asChildOfRunner([bin(input.binDir, "initdb"), "--sync-only", `--pgdata=${input.dataDir}`], {
    runAsUser: input.runAsUser,
    deathSignal: "KILL",
  });
}

export function postgresServerArgv(input: PostgresServerInput): Argv {
  return asChildOfRunner(
    [
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
    ],
    { runAsUser: input.runAsUser, deathSignal: "INT" },
  );
}

export const postgresVersionArgv = (binDir: string | null): Argv => [bin(binDir, "postgres"), "--version"];

/**
 * Where template clusters are kept: SHIPYARD_TEST_CACHE, else a cache directory, not a temporary one (a
 * test run must leave nothing in /tmp or /var/tmp, and a cache outlives it on purpose). For root,
 * /var/cache/shipyard-test, which the user Postgres runs as can enter, unlike root's home; for anyone else,
 * their own XDG cache. A cache, not test state: deleting it is always safe while no test run is starting a
 * server.
 */
export function templateCacheDir(env: NodeJS.ProcessEnv, uid: number): string {
  if (env.SHIPYARD_TEST_CACHE) return env.SHIPYARD_TEST_CACHE;
  if (uid === 0) return "/var/cache/shipyard-test";
  return `${env.XDG_CACHE_HOME || `${env.HOME ?? `/var/tmp/uid-${uid}`}/.cache`}/shipyard-test`;
}

/**
 * The template's directory name: the Postgres build (`postgres --version`, which names the Debian package
 * version too), the user who owns the files and the initdb options. Any change gives a new name, so a
 * template is never reused by a build or an option it was not made for, and never rewritten in place.
 */
export function templateName(input: { version: string; owner: string; initdb: Argv }): string {
  const release = /\d+(?:\.\d+)*/.exec(input.version)?.[0] ?? "unknown";
  const digest = createHash("sha256")
    .update(JSON.stringify([input.version, input.owner, input.initdb]))
    .digest("hex")
    .slice(0, 12);
  return `postgres-${release}-${digest}`;
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
