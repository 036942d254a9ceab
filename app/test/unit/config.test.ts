import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadDatabaseConfig } from "../../src/config.js";

const valid = {
  DATABASE_URL: "postgres://app:pw@db:5432/app",
  REDIS_URL: "redis://:pw@cache:6379/0",
  ADMIN_TOKEN: "0123456789abcdef",
};

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies defaults to a minimal environment", () => {
    expect(loadConfig(valid)).toMatchObject({
      port: 3000,
      host: "0.0.0.0",
      logLevel: "info",
      trustProxy: false,
      release: { id: "dev", revision: "unknown" },
      rateLimit: { max: 100, windowMs: 60_000 },
      shutdownTimeoutMs: 10_000,
      apiDocs: true,
    });
  });

  it("turns the API docs off with API_DOCS=false, and names any other value", () => {
    expect(loadConfig({ ...valid, API_DOCS: "false" }).apiDocs).toBe(false);
    expect(loadConfig({ ...valid, API_DOCS: "0" }).apiDocs).toBe(false);
    expect(problemsOf({ ...valid, API_DOCS: "off" })).toEqual([
      "API_DOCS is invalid: expected true or false",
    ]);
  });

  it("reads every variable, converting numbers and flags", () => {
    const config = loadConfig({
      ...valid,
      PORT: "8080",
      TRUST_PROXY: "true",
      RATE_LIMIT_MAX: "7",
      RELEASE_ID: "r42",
      GIT_REVISION: "deadbeef",
      LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      port: 8080,
      trustProxy: true,
      rateLimit: { max: 7 },
      release: { id: "r42", revision: "deadbeef" },
      logLevel: "warn",
    });
  });

  it("names every bad variable at once, saying whether it is missing or invalid", () => {
    expect(problemsOf({ REDIS_URL: "http://x", PORT: "0", TRUST_PROXY: "yes", ADMIN_TOKEN: "" })).toEqual([
      "DATABASE_URL is not set: expected a postgres:// URL, e.g. postgres://app:secret@db:5432/app",
      "REDIS_URL is invalid: expected a redis:// or rediss:// URL, e.g. redis://:secret@cache:6379/0",
      "ADMIN_TOKEN is not set: expected a secret of at least 16 characters",
      "PORT is invalid: expected an integer from 1 to 65535",
      "TRUST_PROXY is invalid: expected true or false",
    ]);
  });

  it("never puts a value in the message: values are often secrets", () => {
    const secret = "short-but-secret";
    const message = (() => {
      try {
        loadConfig({ ...valid, ADMIN_TOKEN: "tooshort", DATABASE_URL: `mysql://u:${secret}@h/db` });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain("DATABASE_URL is invalid");
    expect(message).not.toContain(secret);
    expect(message).not.toContain("tooshort");
  });

  it("treats an empty variable as unset, so `VAR=` falls back to the default", () => {
    expect(loadConfig({ ...valid, PORT: "", LOG_LEVEL: "" })).toMatchObject({ port: 3000, logLevel: "info" });
  });

  it("asks the database-only commands for DATABASE_URL alone", () => {
    expect(loadDatabaseConfig({ DATABASE_URL: valid.DATABASE_URL })).toEqual({
      databaseUrl: valid.DATABASE_URL,
    });
    expect(() => loadDatabaseConfig({})).toThrow(/DATABASE_URL is not set/);
  });
});
