import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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

describe("secrets from files (NAME_FILE), as Swarm mounts them", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "config-secrets-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const secret = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it("reads each secret from the file its _FILE variable names, without the trailing newline", () => {
    const config = loadConfig({
      DATABASE_URL_FILE: secret("database", `${valid.DATABASE_URL}\n`),
      REDIS_URL_FILE: secret("redis", valid.REDIS_URL),
      ADMIN_TOKEN_FILE: secret("admin", `${valid.ADMIN_TOKEN}\n`),
    });
    expect(config).toMatchObject({
      databaseUrl: valid.DATABASE_URL,
      redisUrl: valid.REDIS_URL,
      adminToken: valid.ADMIN_TOKEN,
    });
    expect(loadDatabaseConfig({ DATABASE_URL_FILE: path.join(dir, "database") })).toEqual({
      databaseUrl: valid.DATABASE_URL,
    });
  });

  it("checks what the file holds like the variable, and names a file it cannot read or a secret set twice", () => {
    expect(
      problemsOf({ ...valid, ADMIN_TOKEN: undefined, ADMIN_TOKEN_FILE: secret("short", "short\n") }),
    ).toEqual(["ADMIN_TOKEN is invalid: expected a secret of at least 16 characters"]);
    const missing = path.join(dir, "no-such-file");
    expect(problemsOf({ ...valid, REDIS_URL: undefined, REDIS_URL_FILE: missing })).toEqual([
      `REDIS_URL_FILE names ${missing}, which cannot be read (ENOENT)`,
    ]);
    expect(problemsOf({ ...valid, DATABASE_URL_FILE: path.join(dir, "database") })).toEqual([
      "DATABASE_URL and DATABASE_URL_FILE are both set: set one of them",
    ]);
  });
});
