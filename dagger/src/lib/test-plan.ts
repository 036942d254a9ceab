/**
 * The services the tests run against, as data: their settings, readiness and the connection URLs handed to
 * the tests (lib/test-step.ts says how the tests themselves start). Also how a Node container installs the
 * source (the deployer's).
 */
import { z } from "zod";
import { cacheWindow } from "./cache-window.js";
import { InvalidInputError, parseOrExplain } from "./invalid-input.js";

/** Hostnames the services are bound under inside the test container. */
export const POSTGRES_HOST = "postgres";
export const REDIS_HOST = "redis";
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

/** The test database's user and name; the password is a Secret or generated for each run. */
export const TEST_DATABASE = { user: "app", database: "app_test" } as const;

/** Where the Redis service reads its configuration (a mounted secret: it holds the password). */
export const REDIS_CONFIG_PATH = "/run/secrets/redis.conf";

/** Where a repository keeps a Dagger module with its own package, as this one does. */
export const MODULE_LOCKFILE = "dagger/package-lock.json";

/**
 * Installs the root workspaces, and the Dagger module's own package when the repository has one (the deploy
 * CLI's type-check covers the module too; another service may have none).
 */
export function installCommands({ hasModulePackage }: { hasModulePackage: boolean }): string[][] {
  const commands = [["npm", "ci", "--no-audit", "--no-fund"]];
  if (hasModulePackage) commands.push(["npm", "ci", "--prefix", "dagger", "--no-audit", "--no-fund"]);
  return commands;
}

/**
 * apt's caches, kept between runs in cache volumes. Locked: apt takes a lock in each, and two containers
 * sharing one (two deployers built at once by calls to the same engine) would otherwise fail on it or
 * corrupt the index; each waits for the other instead.
 */
export const APT_CACHES: readonly { path: string; volume: string; locked: boolean }[] = [
  { path: "/var/lib/apt/lists", volume: "shipyard-apt-lists", locked: true },
  { path: "/var/cache/apt", volume: "shipyard-apt-cache", locked: true },
];

/** Set before `apt-get update`: its value changes once a day, so the engine refreshes the index daily. */
export const APT_INDEX_WINDOW_VARIABLE = "SHIPYARD_APT_INDEX_DAY";

/** One step of installing system packages: a variable to set, or a command to run. */
export type SystemPackageStep = { env: [name: string, value: string] } | { exec: string[] };

/**
 * Installs Debian packages with the apt caches mounted. Debian images delete downloaded packages after
 * each install (/etc/apt/apt.conf.d/docker-clean), which would leave the archive cache empty: that rule
 * goes first. Without the daily variable, the engine would reuse the first `apt-get update` for as long as
 * its cache lives, and install ever older packages.
 */
export function systemPackageSteps(packages: readonly string[], now: Date): SystemPackageStep[] {
  if (packages.length === 0) return [];
  return [
    {
      exec: [
        "sh",
        "-c",
        "rm -f /etc/apt/apt.conf.d/docker-clean && echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache",
      ],
    },
    { env: [APT_INDEX_WINDOW_VARIABLE, cacheWindow(now, 24)] },
    { exec: ["apt-get", "update", "-q"] },
    { exec: ["apt-get", "install", "-y", "-q", "--no-install-recommends", ...packages] },
  ];
}

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier (letters, digits, underscore)");

export const testDatabaseSchema = z.object({
  user: identifier,
  // The test harness refuses an external database whose name does not end in _test, to protect real data.
  database: identifier.refine((name) => name.endsWith("_test"), {
    message: "must end in _test (the test harness refuses any other database, to protect real data)",
  }),
  password: z.string().min(16, "must be at least 16 characters"),
});

export type TestDatabase = z.output<typeof testDatabaseSchema>;

export function parseTestDatabase(input: z.input<typeof testDatabaseSchema>): TestDatabase {
  return parseOrExplain(testDatabaseSchema, input, "test database settings");
}

export function testDatabaseUrl(db: TestDatabase): string {
  const user = encodeURIComponent(db.user);
  const password = encodeURIComponent(db.password);
  return `postgres://${user}:${password}@${POSTGRES_HOST}:${POSTGRES_PORT}/${db.database}`;
}

export function testRedisUrl(password: string): string {
  return `redis://:${encodeURIComponent(password)}@${REDIS_HOST}:${REDIS_PORT}/0`;
}

export interface RedisConfigOptions {
  password: string;
  port?: number;
  /** Inside Dagger the service listens on its own network namespace, reached only by bound containers. */
  bind?: string;
}

/** A Redis config file: the password goes in a mounted secret file, never on the command line. */
export function redisConfig({ password, port = REDIS_PORT, bind = "0.0.0.0" }: RedisConfigOptions): string {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(password)) {
    throw new InvalidInputError(
      "redis password: must be at least 16 characters of letters, digits, '-' or '_'",
    );
  }
  return [`port ${port}`, `bind ${bind}`, `requirepass "${password}"`, 'save ""', "appendonly no", ""].join(
    "\n",
  );
}

/**
 * Postgres server arguments for a throwaway test database: durability off, since the data dies with the run.
 * Passed to the image's entrypoint, which creates the user and database first.
 */
export function postgresServerArgs(): string[] {
  return ["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
}

/** The readiness probe: the server accepts connections for this user and database (no password needed). */
export function postgresReadinessProbe(
  db: Pick<TestDatabase, "user" | "database">,
  port: number = POSTGRES_PORT,
): string[] {
  return ["pg_isready", "-h", "127.0.0.1", "-p", String(port), "-U", db.user, "-d", db.database];
}

export interface TestOutcome {
  passed: boolean;
  /** The end of the output: where a failing run says what failed. */
  summary: string;
}

export function testOutcome(exitCode: number, output: string, tailLines = 60): TestOutcome {
  const lines = output.trimEnd().split("\n");
  const tail = lines.slice(-tailLines).join("\n");
  return exitCode === 0
    ? { passed: true, summary: tail }
    : { passed: false, summary: `tests failed (exit code ${exitCode}); last ${tailLines} lines:\n${tail}` };
}
