/**
 * Deploy environments: one versioned YAML file, validated once with zod, then passed around as data.
 * Errors name the file, the field and what would be valid, so a typo is fixed without reading code.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/** `ssh-ed25519 AAAA…` as printed by `ssh-keyscan -t ed25519 HOST` (without the host name). */
const hostPublicKey = z
  .string()
  .regex(
    /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/,
    "expected '<type> <base64>' as printed by `ssh-keyscan -t ed25519 HOST` (drop the host name in front)",
  );

const localTarget = z.strictObject({ kind: z.literal("local") });

const sshTarget = z.strictObject({
  kind: z.literal("ssh"),
  host: z.string().min(1),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "expected a Unix user name"),
  port: z.number().int().min(1).max(65535).default(22),
  /** Pinned: the CLI writes it to a known_hosts file and runs ssh with StrictHostKeyChecking=yes. */
  hostKey: hostPublicKey,
});

const retention = z.strictObject({
  /** The most recent backups kept whatever their day, so several deploys a day each keep theirs. */
  last: z.number().int().min(1, "keep at least the last backup").default(3),
  daily: z.number().int().min(1, "keep at least one daily backup"),
  weekly: z.number().int().min(0),
});

/**
 * An off-site copy of every verified backup in S3 or any S3-compatible store (MinIO, Garage, R2, B2…).
 * Credentials come only from the run-time environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 */
const upload = z.strictObject({
  /** Bucket and key prefix: s3://BUCKET/PREFIX/ — each backup lands at PREFIX + its file name. */
  url: z
    .string()
    .regex(
      /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/,
      "expected s3://BUCKET or s3://BUCKET/PREFIX/ (a bucket name is 3-63 of [a-z0-9.-])",
    ),
  /** The store's endpoint; leave out for AWS S3 itself. */
  endpoint: z.url().optional(),
  region: z.string().min(1).default("us-east-1"),
  /** bucket in the path (http://host/bucket/key) rather than the host name: what most self-hosted stores need. */
  pathStyle: z.boolean().default(false),
});

const environment = z.strictObject({
  target: z.discriminatedUnion("kind", [localTarget, sshTarget]),
  compose: z.strictObject({
    project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "expected a compose project name ([a-z0-9_-])"),
    /** On the target host; relative paths are relative to the directory the CLI runs in (local only). */
    directory: z.string().min(1),
    /** compose v2 plugin, or v1 (the only one Debian bookworm packages). */
    cli: z.enum(["docker compose", "docker-compose"]).default("docker compose"),
    /** The app's service in compose.yaml; nginx's upstream names its containers. */
    appService: z.string().default("app"),
    nginxService: z.string().default("nginx"),
    /** nginx's conf.d on the host (compose mounts it into the nginx container). */
    nginxConfDirectory: z.string().min(1),
  }),
  /** Where the deploy lock and the release ledger live on the target host. */
  stateDirectory: z.string().min(1),
  publicUrl: z.url(),
  healthPath: z.string().startsWith("/").default("/healthz"),
  database: z.strictObject({
    /** Name of the environment variable holding the connection URL at run time (never the URL itself). */
    urlEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name"),
    /**
     * Where backups run pg_dump: "url" (default) on the CLI's machine against urlEnv's URL, or
     * "compose-service" inside the stack's Postgres container on the target, for a server that is never
     * published. Restores still go through urlEnv.
     */
    dumpFrom: z.enum(["url", "compose-service"]).optional(),
    /** The compose service running Postgres, for dumpFrom: compose-service (default "postgres"). */
    service: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "expected a compose service name")
      .optional(),
  }),
  timeouts: z
    .strictObject({
      commandSeconds: z.number().int().positive().default(600),
      healthSeconds: z.number().int().positive().default(120),
      /** A lock older than this is reported as stale; breaking it is still an explicit choice. */
      lockStaleMinutes: z.number().int().positive().default(60),
    })
    .prefault({}),
  backup: z.strictObject({
    /** On the machine running the CLI (the deployer); relative to the directory the CLI runs in. */
    directory: z.string().min(1),
    retention,
    /** age recipients (`age1…`); when set, stored backups are encrypted to them. */
    encryptTo: z.array(z.string().regex(/^age1[0-9a-z]+$/, "expected an age recipient (age1…)")).default([]),
    /** Off-site copy; retention there is the bucket's lifecycle rule, not this tool's. */
    upload: upload.optional(),
  }),
  /** Restores into this environment need `--confirm=<name>` (set it for prod). */
  requireConfirmation: z.boolean().default(false),
});

export const environmentsFileSchema = z.strictObject({
  version: z.literal(1),
  environments: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), environment),
});

export type Environment = z.infer<typeof environment> & { name: string };
export type SshTarget = z.infer<typeof sshTarget>;
export type Retention = z.infer<typeof retention>;
export type UploadTarget = z.infer<typeof upload>;
export type EnvironmentsFile = z.infer<typeof environmentsFileSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseEnvironments(text: string, source: string): EnvironmentsFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  const result = environmentsFileSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      return `  ${where}: ${issue.message}`;
    });
    throw new ConfigError(`${source} is not a valid environments file:\n${problems.join("\n")}`);
  }
  return result.data;
}

export function selectEnvironment(
  file: EnvironmentsFile,
  name: string | undefined,
  source: string,
): Environment {
  const valid = Object.keys(file.environments);
  if (!name) throw new ConfigError(`--env is required; valid environments in ${source}: ${valid.join(", ")}`);
  const env = file.environments[name];
  if (!env) {
    throw new ConfigError(
      `unknown environment "${name}"; valid environments in ${source}: ${valid.join(", ")}`,
    );
  }
  return { ...env, name };
}

export async function loadEnvironment(path: string, name: string | undefined): Promise<Environment> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(
      `cannot read environments file ${path} (${(error as NodeJS.ErrnoException).code}); pass --config=PATH`,
    );
  }
  return selectEnvironment(parseEnvironments(text, path), name, path);
}
