/**
 * The service's whole configuration, read from the environment once at start and validated with zod.
 * A bad value stops the process with one message naming every bad variable; values are never echoed,
 * because most of them (URLs with passwords, the admin token) are secrets.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const urlWithScheme = (schemes: RegExp) =>
  z.string().refine((value) => {
    try {
      return schemes.test(new URL(value).protocol);
    } catch {
      return false;
    }
  });

const databaseFields = {
  DATABASE_URL: urlWithScheme(/^postgres(ql)?:$/),
};

const serverFields = {
  ...databaseFields,
  REDIS_URL: urlWithScheme(/^rediss?:$/),
  ADMIN_TOKEN: z.string().min(16),
  PORT: int(1, 65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  RELEASE_ID: z.string().min(1).default("dev"),
  GIT_REVISION: z.string().min(1).default("unknown"),
  TRUST_PROXY: flag.default(false),
  RATE_LIMIT_MAX: int(1, 1_000_000).default(100),
  RATE_LIMIT_WINDOW_MS: int(100, 3_600_000).default(60_000),
  CACHE_TTL_SECONDS: int(1, 86_400).default(60),
  DB_POOL_MAX: int(1, 200).default(10),
  SHUTDOWN_TIMEOUT_MS: int(100, 300_000).default(10_000),
  API_DOCS: flag.default(true),
};

/** What each variable must look like, in words a person fixing a deploy can act on. */
const EXPECTED: Record<keyof typeof serverFields, string> = {
  DATABASE_URL: "a postgres:// URL, e.g. postgres://app:secret@db:5432/app",
  REDIS_URL: "a redis:// or rediss:// URL, e.g. redis://:secret@cache:6379/0",
  ADMIN_TOKEN: "a secret of at least 16 characters",
  PORT: "an integer from 1 to 65535",
  HOST: "an interface address such as 0.0.0.0",
  LOG_LEVEL: `one of ${LOG_LEVELS.join(", ")}`,
  RELEASE_ID: "a non-empty release name",
  GIT_REVISION: "a non-empty git revision",
  TRUST_PROXY: "true or false",
  RATE_LIMIT_MAX: "an integer from 1 to 1000000 (requests per window)",
  RATE_LIMIT_WINDOW_MS: "an integer from 100 to 3600000 (milliseconds)",
  CACHE_TTL_SECONDS: "an integer from 1 to 86400",
  DB_POOL_MAX: "an integer from 1 to 200",
  SHUTDOWN_TIMEOUT_MS: "an integer from 100 to 300000 (milliseconds)",
  API_DOCS: "true or false",
};

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function parse<S extends z.ZodRawShape>(fields: S, env: NodeJS.ProcessEnv): z.infer<z.ZodObject<S>> {
  const result = z.object(fields).safeParse(env);
  if (result.success) return result.data;
  const bad = [...new Set(result.error.issues.map((issue) => String(issue.path[0])))];
  throw new ConfigError(
    bad.map((name) => {
      const state = env[name] === undefined || env[name] === "" ? "is not set" : "is invalid";
      return `${name} ${state}: expected ${EXPECTED[name as keyof typeof EXPECTED]}`;
    }),
  );
}

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  adminToken: string;
  logLevel: LogLevel;
  release: { id: string; revision: string };
  trustProxy: boolean;
  rateLimit: { max: number; windowMs: number };
  cacheTtlSeconds: number;
  dbPoolMax: number;
  shutdownTimeoutMs: number;
  /** Serve the OpenAPI document and Swagger UI at /docs. */
  apiDocs: boolean;
}

/** Empty strings count as unset: compose and CI often pass `VAR=` for "use the default". */
function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
}

/** The variables whose value may come from a file instead: the secrets. */
const SECRET_VARIABLES = ["DATABASE_URL", "REDIS_URL", "ADMIN_TOKEN"] as const;

/**
 * A secret may come as `NAME_FILE`, the path of a file that holds it (Docker's convention, as in the
 * official images): Swarm secrets and Kubernetes mount secrets as files, which `docker inspect` does not
 * show as it shows the environment. One trailing newline is dropped, as `echo … > file` leaves one.
 */
function withSecretFiles(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  const resolved = { ...env };
  const problems: string[] = [];
  for (const name of names) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    if (env[name] !== undefined) {
      problems.push(`${name} and ${name}_FILE are both set: set one of them`);
      continue;
    }
    try {
      resolved[name] = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      problems.push(
        `${name}_FILE names ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** What the process was given, secrets read from their files: what the fields are checked against. */
const given = (env: NodeJS.ProcessEnv, names: readonly string[] = SECRET_VARIABLES) =>
  withSecretFiles(withoutEmpty(env), names);

export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const v = parse(serverFields, given(env));
  return {
    port: v.PORT,
    host: v.HOST,
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    adminToken: v.ADMIN_TOKEN,
    logLevel: v.LOG_LEVEL,
    release: { id: v.RELEASE_ID, revision: v.GIT_REVISION },
    trustProxy: v.TRUST_PROXY,
    rateLimit: { max: v.RATE_LIMIT_MAX, windowMs: v.RATE_LIMIT_WINDOW_MS },
    cacheTtlSeconds: v.CACHE_TTL_SECONDS,
    dbPoolMax: v.DB_POOL_MAX,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    apiDocs: v.API_DOCS,
  };
}

/** The release name alone, for the log lines of commands that read nothing else (migrate, seed). */
export function loadReleaseId(env: NodeJS.ProcessEnv): string {
  return parse({ RELEASE_ID: serverFields.RELEASE_ID }, withoutEmpty(env)).RELEASE_ID;
}

/** Migration and seed commands need only the database. */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv): { databaseUrl: string } {
  return { databaseUrl: parse(databaseFields, given(env, ["DATABASE_URL"])).DATABASE_URL };
}
