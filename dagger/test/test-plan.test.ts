import { describe, expect, it } from "vitest";
import {
  APT_CACHES,
  APT_INDEX_WINDOW_VARIABLE,
  installCommands,
  parseTestDatabase,
  postgresReadinessProbe,
  redisConfig,
  systemPackageSteps,
  testDatabaseUrl,
  testOutcome,
  testRedisUrl,
} from "../src/lib/test-plan.js";

const password = "s3cr3t/with:odd@chars+and=more";

describe("the test database", () => {
  it("hands the tests a URL for the bound postgres host, with the password escaped", () => {
    const db = parseTestDatabase({ user: "app", database: "app_test", password });
    const url = new URL(testDatabaseUrl(db));
    expect(url.hostname).toBe("postgres");
    expect(url.port).toBe("5432");
    expect(url.pathname).toBe("/app_test");
    expect(decodeURIComponent(url.password)).toBe(password);
  });

  it("refuses a database whose name does not end in _test, as the test harness would", () => {
    expect(() => parseTestDatabase({ user: "app", database: "app", password })).toThrow(
      /database: must end in _test/,
    );
  });

  it("refuses a short password and a user that is not a plain identifier, naming both", () => {
    const attempt = () => parseTestDatabase({ user: "app; drop", database: "app_test", password: "short" });
    expect(attempt).toThrow(/user: must be a lower-case SQL identifier/);
    expect(attempt).toThrow(/password: must be at least 16 characters/);
  });

  it("waits for the server with pg_isready against the test database itself", () => {
    expect(postgresReadinessProbe({ user: "app", database: "app_test" })).toEqual([
      "pg_isready",
      "-h",
      "127.0.0.1",
      "-p",
      "5432",
      "-U",
      "app",
      "-d",
      "app_test",
    ]);
  });
});

describe("the test Redis", () => {
  it("puts the password in the config file, and the same password in the URL the tests get", () => {
    const redisPassword = "Zm9vYmFyYmF6cXV4cXV1eA";
    expect(redisConfig({ password: redisPassword })).toContain(`requirepass "${redisPassword}"`);
    const url = new URL(testRedisUrl(redisPassword));
    expect(url.hostname).toBe("redis");
    expect(url.password).toBe(redisPassword);
    expect(url.pathname).toBe("/0");
  });

  it("refuses a password that could break out of the config line", () => {
    expect(() => redisConfig({ password: 'abcdefghijklmnop"\nrequirepass ""' })).toThrow(/redis password/);
  });
});

describe("how a Node container installs the source and its system packages (the deployer's)", () => {
  it("installs the root workspaces and this repository's module package", () => {
    expect(installCommands({ hasModulePackage: true }).map((c) => c.join(" "))).toEqual([
      "npm ci --no-audit --no-fund",
      "npm ci --prefix dagger --no-audit --no-fund",
    ]);
  });

  it("installs the packages it is given, without recommends, and nothing when given none", () => {
    const steps = systemPackageSteps(["postgresql-client", "age"], new Date("2026-12-02T06:00:00Z"));
    expect(steps.at(-1)).toEqual({
      exec: ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql-client", "age"],
    });
    expect(systemPackageSteps([], new Date())).toEqual([]);
  });

  it("refreshes apt's package index at least daily, and keeps downloaded packages in the cache", () => {
    const at = (iso: string) => systemPackageSteps(["age"], new Date(iso));
    const described = at("2026-12-02T06:00:00Z").map((s) =>
      "env" in s ? s.env.join("=") : s.exec.join(" "),
    );
    // Debian images delete what apt downloads; without this the archive cache volume stays empty.
    expect(described[0]).toMatch(
      /rm -f \/etc\/apt\/apt.conf.d\/docker-clean .*Keep-Downloaded-Packages "true"/,
    );
    // The variable comes before the update, so the update re-runs when it changes: the next day, not before.
    expect(described.slice(1, 3)).toEqual([
      `${APT_INDEX_WINDOW_VARIABLE}=2026-12-02T00`,
      "apt-get update -q",
    ]);
    expect(at("2026-12-02T23:59:59Z")).toEqual(at("2026-12-02T00:00:00Z"));
    expect(at("2026-12-03T00:00:00Z")).not.toEqual(at("2026-12-02T23:59:59Z"));
  });

  it("shares apt's cache volumes between containers only one at a time (apt locks them)", () => {
    expect(APT_CACHES).toEqual([
      { path: "/var/lib/apt/lists", volume: "shipyard-apt-lists", locked: true },
      { path: "/var/cache/apt", volume: "shipyard-apt-cache", locked: true },
    ]);
  });

  it("installs only the root for a service without a Dagger module of its own", () => {
    expect(installCommands({ hasModulePackage: false })).toEqual([["npm", "ci", "--no-audit", "--no-fund"]]);
  });
});

describe("the outcome of a test run", () => {
  const output = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n");

  it("passes on exit code 0", () => {
    expect(testOutcome(0, output).passed).toBe(true);
  });

  it("fails on any other exit code, with the exit code and the end of the output", () => {
    const outcome = testOutcome(1, output, 3);
    expect(outcome.passed).toBe(false);
    expect(outcome.summary).toBe("tests failed (exit code 1); last 3 lines:\nline 98\nline 99\nline 100");
  });
});
