import { describe, expect, it } from "vitest";
import { ownerPid } from "../harness/scratch-dir.js";
import {
  choosePostgresBinDir,
  chooseTestBackends,
  postgresPlan,
  redisConfig,
  redisServerArgv,
} from "../harness/server-plans.js";

describe("postgresPlan", () => {
  const input = {
    binDir: "/usr/lib/postgresql/15/bin",
    dataDir: "/tmp/x/data",
    socketDir: "/tmp/x",
    passwordFile: "/tmp/x/pwfile",
    port: 5555,
  };

  it("runs initdb and postgres as the postgres user when we are root, dying with the runner", () => {
    const plan = postgresPlan({ ...input, runAsUser: "postgres" });
    expect(plan.server.slice(0, 6)).toEqual([
      "setpriv",
      "--reuid=postgres",
      "--regid=postgres",
      "--init-groups",
      "--pdeathsig=INT",
      "--",
    ]);
    expect(plan.server).toContain("/usr/lib/postgresql/15/bin/postgres");
    expect(plan.server).toContain("listen_addresses=127.0.0.1");
    expect(plan.initdb).toContain("--pwfile=/tmp/x/pwfile");
    expect(plan.initdb).toContain("--auth=scram-sha-256");
  });

  it("runs as the current user otherwise, and never puts the password on a command line", () => {
    const plan = postgresPlan({ ...input, runAsUser: null });
    expect(plan.server.slice(0, 3)).toEqual(["setpriv", "--pdeathsig=INT", "--"]);
    expect(plan.isReady).toEqual([
      "/usr/lib/postgresql/15/bin/pg_isready",
      "-h",
      "127.0.0.1",
      "-p",
      "5555",
      "-t",
      "1",
    ]);
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
