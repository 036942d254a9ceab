import { describe, expect, it } from "vitest";
import { ownerPid } from "../harness/scratch-dir.js";
import {
  choosePostgresBinDir,
  chooseTestBackends,
  initdbArgv,
  postgresServerArgv,
  redisConfig,
  redisServerArgv,
  syncClusterArgv,
  templateCacheDir,
  templateName,
} from "../harness/server-plans.js";

describe("postgres plans", () => {
  const cluster = { binDir: "/usr/lib/postgresql/15/bin", dataDir: "/tmp/x/data", passwordFile: "/tmp/x/pw" };
  const server = {
    binDir: "/usr/lib/postgresql/15/bin",
    dataDir: "/tmp/x/data",
    socketDir: "/tmp/x",
    port: 5555,
  };

  it("runs initdb and postgres as the postgres user when we are root, dying with the runner", () => {
    const argv = postgresServerArgv({ ...server, runAsUser: "postgres" });
    expect(argv.slice(0, 6)).toEqual([
      "setpriv",
      "--reuid=postgres",
      "--regid=postgres",
      "--init-groups",
      "--pdeathsig=INT",
      "--",
    ]);
    expect(argv).toContain("/usr/lib/postgresql/15/bin/postgres");
    expect(argv).toContain("listen_addresses=127.0.0.1");
    const initdb = initdbArgv({ ...cluster, runAsUser: "postgres" });
    expect(initdb.slice(0, 2)).toEqual(["setpriv", "--reuid=postgres"]);
    expect(initdb).toContain("--pwfile=/tmp/x/pw");
  });

  it("asks for the password over TCP and trusts only the Unix socket, whose directory is private", () => {
    const initdb = initdbArgv({ ...cluster, runAsUser: null });
    expect(initdb).toContain("--auth-host=scram-sha-256");
    expect(initdb).toContain("--auth-local=trust");
    expect(initdb.join(" ")).not.toMatch(/--auth=/);
    expect(postgresServerArgv({ ...server, runAsUser: null })).toEqual(
      expect.arrayContaining(["-k", "/tmp/x", "-p", "5555"]),
    );
  });

  it("runs as the current user otherwise", () => {
    expect(postgresServerArgv({ ...server, runAsUser: null }).slice(0, 3)).toEqual([
      "setpriv",
      "--pdeathsig=INT",
      "--",
    ]);
    expect(syncClusterArgv({ ...cluster, runAsUser: null })).toEqual([
      "setpriv",
      "--pdeathsig=KILL",
      "--",
      "/usr/lib/postgresql/15/bin/initdb",
      "--sync-only",
      "--pgdata=/tmp/x/data",
    ]);
  });
});

describe("template clusters", () => {
  const initdb = initdbArgv({ binDir: null, dataDir: "<data>", passwordFile: "<password>", runAsUser: null });
  const version = "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)";

  it("are named by the Postgres release, and change name with the build, the owner or initdb's options", () => {
    const name = templateName({ version, owner: "postgres", initdb });
    expect(name).toMatch(/^postgres-15\.18-[0-9a-f]{12}$/);
    expect(templateName({ version, owner: "postgres", initdb })).toBe(name);
    expect(
      templateName({ version: version.replace("deb12u1", "deb12u2"), owner: "postgres", initdb }),
    ).not.toBe(name);
    expect(templateName({ version, owner: "uid 1000", initdb })).not.toBe(name);
    expect(templateName({ version, owner: "postgres", initdb: [...initdb, "--data-checksums"] })).not.toBe(
      name,
    );
  });

  it("are kept in SHIPYARD_TEST_CACHE, else in a cache directory (never a temporary one), one per user", () => {
    expect(templateCacheDir({ SHIPYARD_TEST_CACHE: "/srv/cache" }, 0)).toBe("/srv/cache");
    expect(templateCacheDir({}, 0)).toBe("/var/cache/shipyard-test");
    expect(templateCacheDir({ SHIPYARD_TEST_CACHE: "", HOME: "/home/ci" }, 1000)).toBe(
      "/home/ci/.cache/shipyard-test",
    );
    expect(templateCacheDir({ XDG_CACHE_HOME: "/cache", HOME: "/home/ci" }, 1000)).toBe(
      "/cache/shipyard-test",
    );
  });
});

describe("choosePostgresBinDir", () => {
  it("prefers PG_BIN_DIR, then the newest Debian major, then PATH", () => {
    expect(choosePostgresBinDir({ PG_BIN_DIR: "/opt/pg/bin" }, ["15"])).toBe("/opt/pg/bin");
    expect(choosePostgresBinDir({}, ["9", "15", "16", "common"])).toBe("/usr/lib/postgresql/16/bin");
    expect(choosePostgresBinDir({}, [])).toBeNull();
  });
});

describe("redis", () => {
  it("passes the password in the config on stdin, not in argv", () => {
    expect(redisServerArgv()).toEqual(["setpriv", "--pdeathsig=TERM", "--", "redis-server", "-"]);
    const config = redisConfig({ port: 6390, dir: "/tmp/r", password: "s3cret" });
    expect(config).toContain("requirepass s3cret");
    expect(config).toContain("bind 127.0.0.1");
    expect(config).toContain("port 6390");
  });
});

describe("chooseTestBackends", () => {
  it("starts throw-away servers when nothing is configured", () => {
    expect(chooseTestBackends({})).toEqual({ mode: "ephemeral" });
  });

  it("uses external servers whose database is clearly a test database", () => {
    const env = { DATABASE_URL: "postgres://u:p@postgres:5432/app_test", REDIS_URL: "redis://redis:6379" };
    expect(chooseTestBackends(env)).toEqual({
      mode: "external",
      databaseUrl: env.DATABASE_URL,
      redisUrl: env.REDIS_URL,
    });
  });

  it("refuses a database that could hold real data, instead of wiping it", () => {
    expect(() =>
      chooseTestBackends({ DATABASE_URL: "postgres://u:p@prod-db:5432/app", REDIS_URL: "redis://r:6379" }),
    ).toThrow(/Refusing to run tests against database "app"/);
  });

  it("asks for both URLs or neither", () => {
    expect(() => chooseTestBackends({ DATABASE_URL: "postgres://u:p@h/app_test" })).toThrow(
      /only DATABASE_URL is set/,
    );
  });
});

describe("ownerPid", () => {
  it("reads the pid of the run that made a scratch directory", () => {
    expect(ownerPid("shipyard-test-4242-pg-abc123")).toBe(4242);
    expect(ownerPid("something-else")).toBeNull();
  });
});
