/**
 * Deploy environments: one versioned YAML file, validated once with zod, then passed around as data.
 * Errors name the file, the field and what would be valid, so a typo is fixed without reading code.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { didYouMean } from "../suggest.js";

/** `ssh-ed25519 AAAA…` as printed by `ssh-keyscan -t ed25519 HOST` (without the host name). */
const hostPublicKey = z
  .string()
  .regex(
    /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/,
    "expected '<type> <base64>' as printed by `ssh-keyscan -t ed25519 HOST` (drop the host name in front)",
  )
  .describe(
    "The host's public key, `ssh-ed25519 AAAA…`, **pinned**: the CLI writes it to a known_hosts file made " +
      "from this key alone and runs ssh with `StrictHostKeyChecking=yes`. Get it from the server's console, " +
      "or compare `ssh-keyscan -t ed25519 HOST` with it, and paste it without the host name.",
  );

const localTarget = z
  .strictObject({
    kind: z.literal("local").describe("This machine's Docker engine and file system, no SSH."),
  })
  .describe("`{ kind: local }`");

/** How a host is reached over SSH: the same fields for a single server and a swarm's manager. */
const sshFields = {
  host: z.string().min(1).describe("The server's host name or address."),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$/, "expected a Unix user name")
    .describe("The Unix user the CLI logs in as; it runs docker and compose on the host."),
  port: z.number().int().min(1).max(65535).default(22).describe("The SSH port."),
  hostKey: hostPublicKey,
};

const sshTarget = z
  .strictObject({ kind: z.literal("ssh").describe("A server reached over SSH."), ...sshFields })
  .describe("`{ kind: ssh, host, user, port, hostKey }`");

/** A Docker Swarm reached through one manager over SSH (docs/swarm.md). */
const swarmTarget = z
  .strictObject({
    kind: z
      .literal("swarm")
      .describe(
        "A Docker Swarm: the stack is deployed with `docker stack deploy` on a manager reached over SSH " +
          "(host, user, port, hostKey are the manager's).",
      ),
    ...sshFields,
    replicas: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(2)
      .describe(
        "How many tasks of the app run; Swarm updates them one at a time, the new one started first.",
      ),
    dataLabel: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, "expected a node label name, e.g. shipyard.data")
      .default("shipyard.data")
      .describe(
        "The node label (`docker node update --label-add shipyard.data=true NODE`) of the node that keeps " +
          "the data: Postgres, Redis and nginx are placed there with their volumes. It must be the manager " +
          "the CLI reaches, which runs backups in Postgres's container.",
      ),
  })
  .describe("`{ kind: swarm, host, user, port, hostKey, replicas, dataLabel }`");

const retention = z
  .strictObject({
    last: z
      .number()
      .int()
      .min(1, "keep at least the last backup")
      .default(3)
      .describe(
        "Keep the `last` newest backups, whatever their day, so several deploys a day each keep theirs.",
      ),
    daily: z
      .number()
      .int()
      .min(1, "keep at least one daily backup")
      .describe("Plus the newest backup of each of the last `daily` days that have one (UTC)."),
    weekly: z
      .number()
      .int()
      .min(0)
      .describe("Plus the newest backup of each of the last `weekly` ISO weeks that have one (UTC)."),
  })
  .describe(
    "Which backups are kept; the others are dropped from the catalog first and their files removed after.",
  );

/**
 * An off-site copy of every verified backup in S3 or any S3-compatible store (MinIO, Garage, R2, B2…).
 * Credentials come only from the run-time environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 */
const upload = z
  .strictObject({
    url: z
      .string()
      .regex(
        /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/,
        "expected s3://BUCKET or s3://BUCKET/PREFIX/ (a bucket name is 3-63 of [a-z0-9.-])",
      )
      .describe("Bucket and key prefix, `s3://BUCKET/PREFIX/`: each backup lands at PREFIX + its file name."),
    endpoint: z.url().optional().describe("The store's endpoint; leave it out for AWS S3 itself."),
    region: z.string().min(1).default("us-east-1").describe("The store's region."),
    pathStyle: z
      .boolean()
      .default(false)
      .describe(
        "Bucket in the path (`http://host/bucket/key`) rather than in the host name: what most self-hosted " +
          "stores (MinIO, Garage, Ceph) need.",
      ),
  })
  .describe(
    "Optional off-site copy of every verified backup in S3 or any S3-compatible store (MinIO, Garage, R2, B2…), " +
      "read back before it counts. The key comes only from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` at run " +
      "time; how long copies are kept there is the bucket's lifecycle rule, not this tool's. See " +
      "docs/backups.md.",
  );

/** The app as a release handles it, whatever its language; the defaults are the bundled Node sample's. */
const app = z
  .strictObject({
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(3000)
      .describe(
        "The port the app listens on in its container: compose gives it to the app as `PORT`, nginx's upstream names it.",
      ),
    migrate: z
      .array(z.string().min(1))
      .min(1)
      .default(["node", "dist/cli.js", "migrate"])
      .describe(
        "The app's migrate command, as an argument list, run in the new release's container before it serves " +
          "(and by compose's `migrate` service on a first release). It applies what is pending and does " +
          "nothing when nothing is, e.g. `[alembic, upgrade, head]`.",
      ),
    secrets: z
      .array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name"))
      .default(["DATABASE_URL", "REDIS_URL", "ADMIN_TOKEN"])
      .describe(
        "The app's variables that hold secrets (compose.yaml sets them from compose/.env). On a swarm they " +
          "reach the app and its migrate job as Swarm secrets: files under /run/secrets, named by " +
          "`NAME_FILE`, which the app must read (the Node sample and the FastAPI example do). On one " +
          "server they stay variables.",
      ),
  })
  .prefault({})
  .describe(
    "The app's port and migrate command. Its readiness is its image's own `HEALTHCHECK`, which must pass " +
      "only when the app can serve (database, cache and schema): a release waits for it before the switch.",
  );

const environment = z.strictObject({
  target: z
    .discriminatedUnion("kind", [localTarget, sshTarget, swarmTarget])
    .describe(
      "Where the environment runs: `{ kind: local }`, `{ kind: ssh, host, user, port, hostKey }`, or " +
        "`{ kind: swarm, host, user, port, hostKey, replicas }` for a Docker Swarm through its manager.",
    ),
  compose: z
    .strictObject({
      project: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_-]*$/, "expected a compose project name ([a-z0-9_-])")
        .describe("The compose project name on the host."),
      directory: z
        .string()
        .min(1)
        .describe(
          "The compose project's directory on the host; relative paths are relative to the directory the CLI " +
            "runs in (local only). A deploy ships the configuration into the directory that holds it.",
        ),
      cli: z
        .enum(["docker compose", "docker-compose"])
        .default("docker compose")
        .describe("The compose v2 plugin, or v1 (the only one Debian bookworm packages)."),
      appService: z
        .string()
        .default("app")
        .describe("The app's service in compose.yaml; nginx's upstream names its containers."),
      nginxService: z.string().default("nginx").describe("The nginx service in compose.yaml."),
      nginxConfDirectory: z
        .string()
        .min(1)
        .describe(
          "nginx's `conf.d` on the host (compose mounts it into the nginx container), whose `upstream.conf` a " +
            "release rewrites; `<directory that holds compose.directory>/nginx/conf.d`, since compose.yaml " +
            "mounts `../nginx`.",
        ),
    })
    .describe("The compose project on the host."),
  stateDirectory: z
    .string()
    .min(1)
    .describe("Where the deploy lock and the release ledger live on the target host."),
  app,
  publicUrl: z
    .url()
    .describe("Where the site answers through nginx: deploys verify and `status` checks health there."),
  healthPath: z
    .string()
    .startsWith("/")
    .default("/healthz")
    .describe("The health path, asked at `publicUrl`."),
  database: z
    .strictObject({
      urlEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name")
        .describe(
          "The **name** of the environment variable that holds the database URL at run time; the URL never " +
            "goes in the file.",
        ),
      dumpFrom: z
        .enum(["url", "compose-service"])
        .optional()
        .describe(
          "Where backups run pg_dump: \"url\" (the default) on the CLI's machine against urlEnv's URL, or " +
            '"compose-service" inside the stack\'s Postgres container on the target, for a server that is ' +
            "never published.",
        ),
      service: z
        .string()
        .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "expected a compose service name")
        .optional()
        .describe(
          'The compose service running Postgres, for dumpFrom: compose-service (default "postgres").',
        ),
    })
    .describe("The environment's database."),
  timeouts: z
    .strictObject({
      commandSeconds: z
        .number()
        .int()
        .positive()
        .default(600)
        .describe("The runner's bound on one command: a guard against a hang."),
      healthSeconds: z
        .number()
        .int()
        .positive()
        .default(120)
        .describe("How long a deploy waits for the new container's healthcheck."),
      lockStaleMinutes: z
        .number()
        .int()
        .positive()
        .default(60)
        .describe("A lock older than this is reported as stale; breaking it is still an explicit choice."),
    })
    .prefault({})
    .describe("Time limits."),
  watch: z
    .strictObject({
      seconds: z
        .number()
        .int()
        .min(0)
        .max(3600)
        .default(30)
        .describe(
          "After the switch, how long the new release must keep serving (health and /version through the " +
            "public URL; its share of 5xx answers in nginx's access log) while the previous release stays " +
            "running as nginx's backup, ready to take traffic back. A failure in the window is rolled back. " +
            "0 turns the window off.",
        ),
      maxErrorPercent: z
        .number()
        .min(0)
        .max(100)
        .default(1)
        .describe(
          "The share of proxied requests (in percent) the new release may answer with 5xx in the window; " +
            "above it the release is rolled back.",
        ),
      minRequests: z
        .number()
        .int()
        .positive()
        .default(20)
        .describe(
          "The share is judged once nginx has logged this many proxied requests; with fewer, the health " +
            "probe alone decides.",
        ),
    })
    .prefault({})
    .describe("The watch window after each switch."),
  backup: z
    .strictObject({
      where: z
        .enum(["cli", "server"])
        .default("cli")
        .describe(
          'Where backups are made, verified and kept. "server": on the target host, for database.dumpFrom: ' +
            "compose-service: pg_dump in the stack's Postgres container writes into `directory` on the host, a " +
            "throw-away container of the stack's own Postgres image (no network, removed after) restores and " +
            "counts it there, and `catalog.json` and retention live there too, so a backup made from CI outlives " +
            'the CI job and every machine lists and restores it. "cli": on the machine running the CLI, checked ' +
            "on a scratch server (`SHIPYARD_SCRATCH_DATABASE_URL`, or beside the source): for a server too small " +
            "to restore a copy of its database, from a machine that keeps its files. See docs/backups.md.",
        ),
      directory: z
        .string()
        .min(1)
        .optional()
        .describe(
          "Where backups and `catalog.json` are stored. where: cli (required): on the machine running the CLI, " +
            "relative to the directory the CLI runs in. where: server: a path on the host, default " +
            "`<stateDirectory>/backups`, beside the release ledger.",
        ),
      retention,
      encryptTo: z
        .array(z.string().regex(/^age1[0-9a-z]+$/, "expected an age recipient (age1…)"))
        .default([])
        .describe(
          "age recipients (`age1…`); when set, stored backups are encrypted to them (where: cli only, for now).",
        ),
      upload: upload.optional(),
    })
    .describe("Verified backups of the database."),
  requireConfirmation: z
    .boolean()
    .default(false)
    .describe("Restores into this environment need `--confirm=<name>` (set it for prod)."),
  notify: z
    .strictObject({
      webhookUrlEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected the name of an environment variable")
        .describe(
          "The environment variable that holds the webhook's URL at run time (the URL is a secret: never in " +
            "this file), e.g. `SHIPYARD_WEBHOOK_URL`. Unset when the CLI runs: a warning, and no notification.",
        ),
    })
    .optional()
    .describe(
      'A Slack-compatible webhook told of every deploy, rollback and backup, succeeded or failed: a POST of `{"text": …}` ' +
        "with the operation's audit record as `shipyard`, 5 s at most. A notification that fails is a warning; " +
        "it never fails the operation. See docs/deploy.md.",
    ),
});

/**
 * Where the Dagger module's `deploy` and `publish` push the image they release. One section for the project,
 * not one per environment: the image is built once and the same digest is promoted through every
 * environment (staging runs what prod will run), so it has one home. The CLI never reads it: it deploys the
 * digest it is given. The module checks the values when it publishes (a registry host, a repository path),
 * where it checks the same flags, so they are only required to be there here.
 */
const image = z
  .strictObject({
    registry: z.string().min(1).describe("Registry host, e.g. `ghcr.io` or `registry.example.com:5000`."),
    repository: z
      .string()
      .min(1)
      .describe(
        "Repository path in the registry, e.g. `acme/shipyard`; lower-cased when published, as registries require.",
      ),
    username: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The registry user CI pushes as (its token comes from Dagger's local defaults, `.env`): the repository " +
          "owner for GHCR with the workflow's `GITHUB_TOKEN`, `gitlab-ci-token` for GitLab's registry. A " +
          "person publishing from a laptop passes `--username` (or keeps it in their own `.env`).",
      ),
    sourceUrl: z
      .url()
      .optional()
      .describe(
        "URL of the repository, recorded in the image's `org.opencontainers.image.source` label (GHCR links " +
          "the package to it).",
      ),
  })
  .describe(
    "Where `dagger call deploy` and `dagger call publish` push the image: one home for the project, since " +
      "the same digest is promoted through every environment. Their flags override it; the deploy CLI never " +
      "reads it.",
  );

/** What one field alone cannot say: which backup settings go together. */
const checkedEnvironment = environment.superRefine((entry, ctx) => {
  const { backup } = entry;
  if (backup.where === "cli" && backup.directory === undefined)
    ctx.addIssue({
      code: "custom",
      path: ["backup", "directory"],
      message: "required with backup.where: cli (the directory on the machine running the CLI)",
    });
  if (backup.where === "server" && entry.database.dumpFrom !== "compose-service")
    ctx.addIssue({
      code: "custom",
      path: ["backup", "where"],
      message:
        "server needs database.dumpFrom: compose-service (pg_dump runs in the stack's Postgres container)",
    });
  // The stored file stays beside the database it copies; encrypting it there needs age on the server.
  if (backup.where === "server" && backup.encryptTo.length > 0)
    ctx.addIssue({
      code: "custom",
      path: ["backup", "encryptTo"],
      message: "not supported with backup.where: server yet; leave it out, or use where: cli",
    });
});

export const environmentsFileSchema = z.strictObject({
  version: z.literal(1).describe("The file format's version."),
  image: image.optional(),
  environments: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lower-case name ([a-z][a-z0-9-]*)"),
      checkedEnvironment,
    )
    .describe("One entry per environment, by name (`--env=NAME`)."),
});

type EnvironmentEntry = z.infer<typeof environment>;

/** An environment as commands use it: named, and its backup directory decided (see backupDirectory). */
export type Environment = Omit<EnvironmentEntry, "backup"> & {
  name: string;
  backup: EnvironmentEntry["backup"] & { directory: string };
};

/** Backups made on the server live beside the ledger unless the file says where. */
export const defaultServerBackupDirectory = (stateDirectory: string) =>
  `${stateDirectory.replace(/\/+$/, "")}/backups`;

function backupDirectory(entry: EnvironmentEntry): string {
  // where: cli without a directory is refused by the schema.
  return entry.backup.directory ?? defaultServerBackupDirectory(entry.stateDirectory);
}
/** What reaching a host over SSH needs, a single server's or a swarm manager's. */
export type SshTarget = Pick<z.infer<typeof sshTarget>, "host" | "user" | "port" | "hostKey">;
export type SwarmTarget = z.infer<typeof swarmTarget>;
export type Retention = z.infer<typeof retention>;
export type UploadTarget = z.infer<typeof upload>;
export type EnvironmentsFile = z.infer<typeof environmentsFileSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A field that is not there says so, where zod would say "expected string, received undefined". */
const missingIsRequired: z.core.$ZodErrorMap = (issue) =>
  issue.code === "invalid_type" && issue.input === undefined ? "required, and missing" : undefined;

/** Every problem on one line (the CLI's errors are one line each), each named by its path in the file. */
function invalidFile(source: string, issues: readonly z.core.$ZodIssue[]): ConfigError {
  const problems = issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    const detail = issue.code === "invalid_key" ? issue.issues[0]?.message : undefined;
    return `${where}: ${detail && issue.path.length > 0 ? `invalid name: ${detail}` : issue.message}`;
  });
  return new ConfigError(
    problems.length === 1
      ? `${source}: ${problems[0]}`
      : `${source} has ${problems.length} problems: ${problems.join("; ")}`,
  );
}

export function parseEnvironments(text: string, source: string): EnvironmentsFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    // yaml's message goes on with a picture of the line; its first line says what and where.
    throw new ConfigError(
      `${source}: not valid YAML: ${(error as Error).message.split("\n")[0]?.replace(/:$/, "")}`,
    );
  }
  if (raw === null || raw === undefined)
    throw new ConfigError(
      `${source} is empty: it needs "version: 1" and an "environments:" map of at least one environment (docs/environments.md)`,
    );
  const result = environmentsFileSchema.safeParse(raw, { error: missingIsRequired });
  if (!result.success) throw invalidFile(source, result.error.issues);
  return result.data;
}

export function selectEnvironment(
  file: EnvironmentsFile,
  name: string | undefined,
  source: string,
): Environment {
  const valid = Object.keys(file.environments);
  if (valid.length === 0)
    throw new ConfigError(
      `${source} defines no environments: add one under "environments:" (docs/environments.md)`,
    );
  if (!name) throw new ConfigError(`--env is required; valid environments in ${source}: ${valid.join(", ")}`);
  const env = file.environments[name];
  if (!env) {
    // Names are lower case: `--env=Prod` meant prod.
    const lower = name.toLowerCase();
    if (lower !== name && valid.includes(lower))
      throw new ConfigError(
        `unknown environment "${name}": environment names are lower case; use --env=${lower}`,
      );
    throw new ConfigError(
      `unknown environment "${name}"; valid environments in ${source}: ${valid.join(", ")}${didYouMean(name, valid)}`,
    );
  }
  return { ...env, name, backup: { ...env.backup, directory: backupDirectory(env) } };
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
