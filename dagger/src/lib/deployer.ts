/**
 * How the deploy functions run the repository's deploy CLI (deploy/src/cli.ts) in a deployer container:
 * its argv, which secrets and host resources it gets, and the reading of its --json answer. Plain data,
 * so the wiring is unit-tested without an engine; src/index.ts only applies it.
 */
import { z } from "zod";
import { type EnvironmentFacts, reachedOverSsh, TARGET_KINDS } from "./environments.js";
import { hostPathSchema, hostRunArgv } from "./host-run.js";
import { asCliFlag, parseOrExplain } from "./invalid-input.js";

/**
 * What the CLI needs besides Node, from Debian: ssh, the Postgres client tools (bookworm's are 15, the major
 * the stack runs, see defaults.ts) and age. Not Docker: Debian's client speaks API 1.41, which Docker
 * Engine 29 and later refuse (their minimum is 1.44); it comes from the docker CLI image instead.
 */
export const DEPLOYER_SYSTEM_PACKAGES: readonly string[] = ["openssh-client", "postgresql-client", "age"];

/**
 * The major of Debian bookworm's postgresql-client. pg_dump refuses a server newer than itself, and
 * pg_restore an archive from a newer pg_dump, so the stack's Postgres must not be newer than this.
 */
export const DEPLOYER_POSTGRES_CLIENT_MAJOR = 15;

/**
 * Copied from the docker CLI image (static binaries, so they run on the Node image's Debian): the client,
 * and the compose v2 plugin where the client looks for plugins, so `docker compose` works.
 */
export const DOCKER_CLI_FILES: readonly { from: string; to: string }[] = [
  { from: "/usr/local/bin/docker", to: "/usr/local/bin/docker" },
  {
    from: "/usr/local/libexec/docker/cli-plugins/docker-compose",
    to: "/usr/local/libexec/docker/cli-plugins/docker-compose",
  },
];

/** The SSH key is mounted here (mode 0600), and the CLI is told so by SHIPYARD_SSH_KEY_FILE. */
export const SSH_KEY_PATH = "/run/secrets/shipyard-ssh-key";
/** Where the Docker CLI looks by default, so `local` needs no DOCKER_HOST inside the deployer. */
export const DOCKER_SOCKET_PATH = "/var/run/docker.sock";
/** The dump `restore` is given, as the CLI's restore --file reads it. */
export const RESTORE_FILE_PATH = "/run/shipyard/restore.dump";
/**
 * Where `backup` has the CLI copy the verified file (--fetch-to), to return it: a backup kept on the
 * server stays there, and one kept in the deployer is copied beside itself.
 */
export const FETCHED_BACKUP_PATH = "/run/shipyard/backup.dump";
/** Where the deployer has the repository (the Dagger source), and where the CLI runs from. */
export const WORKDIR = "/src";
/** The throwaway Postgres every backup is restored into and counted on before it counts. */
export const SCRATCH_POSTGRES_HOST = "scratch-postgres";
export const SCRATCH_DATABASE = { user: "shipyard", database: "scratch" } as const;

/**
 * What the CLI is asked to do, with the arguments of that command alone. The values go to the CLI as they
 * were given: it checks the image's digest, the release to roll back to and the confirmation itself.
 */
export type DeployerCommand =
  | {
      command: "deploy";
      /** The image to release; the CLI refuses one not pinned by digest. */
      image: string;
      release?: string;
    }
  | { command: "backup" }
  | { command: "restore"; confirm?: string }
  | { command: "rollback"; to?: string }
  | { command: "setup" }
  | { command: "status" }
  /** The newest records of the host's audit log; `limit` as the CLI's --limit (it checks it). */
  | { command: "audit"; limit?: string }
  /** A service's recent log lines, collected (no --follow: a function returns once). */
  | { command: "logs"; service?: string; since?: string; tail?: string };

/** The commands that only read what is on the host, or prepare a host with no data: no backup to take. */
const TAKE_NO_BACKUP: readonly DeployerCommand["command"][] = ["setup", "status", "audit", "logs"];

/**
 * How one environment is reached, shared by every function that acts on one: what its entry in the
 * environments file says (environments.ts) and which of the access arguments the caller gave.
 */
const deployerAccess = z
  .object({
    env: z.string().trim().min(1, "must name an environment of deploy/environments.yaml, e.g. prod or local"),
    /** The environment's entry, as environments.ts read it from the source. */
    environment: z.object({
      targetKind: z.enum(TARGET_KINDS),
      urlEnv: z.string(),
      /** backup.where: server: the host checks its backups itself. */
      backupsOnServer: z.boolean().default(false),
      /** notify.webhookUrlEnv: the variable the CLI reads the webhook's URL from. */
      webhookUrlEnv: z.string().optional(),
    }),
    hasSshKey: z.boolean(),
    hasDockerSocket: z.boolean(),
    hasDatabaseUrl: z.boolean(),
    /** The off-site store's key pair, for environments with backup.upload. */
    hasS3AccessKeyId: z.boolean().default(false),
    hasS3SecretAccessKey: z.boolean().default(false),
    /** The webhook's URL, for environments with notify (deploy, rollback and backup post their result there). */
    hasWebhookUrl: z.boolean().default(false),
    /** An admin token for setup to use rather than make a fresh one (on Swarm no file keeps it). */
    hasAdminToken: z.boolean().default(false),
    /** The checkout's path on the host, for `local` (the CLI then runs on the host's engine, see host-run.ts). */
    hostPath: z.string().optional(),
    /** Where the host has the Docker socket --docker-socket names; the CLI's container on the host mounts it. */
    dockerSocketPath: z.string().default(DOCKER_SOCKET_PATH),
    /** Makes the path a restore stages its file at unique to this run. */
    runId: z
      .string()
      .regex(/^[a-z0-9]+$/)
      .default("run"),
  })
  .superRefine((input, ctx) => {
    const { targetKind } = input.environment;
    if (input.hasS3AccessKeyId !== input.hasS3SecretAccessKey)
      ctx.addIssue({
        code: "custom",
        path: [input.hasS3AccessKeyId ? "s3SecretAccessKey" : "s3AccessKeyId"],
        message:
          "the off-site store's key is a pair: pass both --s3-access-key-id and --s3-secret-access-key, or neither",
      });
    if (input.hasWebhookUrl && input.environment.webhookUrlEnv === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["webhookUrl"],
        message: `"${input.env}" has no notify.webhookUrlEnv in deploy/environments.yaml to hand the URL to: add one (e.g. notify: { webhookUrlEnv: SHIPYARD_WEBHOOK_URL }) or leave --webhook-url out`,
      });
    if (targetKind === "local" && !input.hasDockerSocket)
      ctx.addIssue({
        code: "custom",
        path: ["dockerSocket"],
        message: `"${input.env}" runs on the host's Docker engine (target.kind: local): pass --docker-socket=/var/run/docker.sock (or your engine's socket)`,
      });
    if (targetKind === "local") {
      const hostPath = hostPathSchema.safeParse(input.hostPath ?? "");
      if (!hostPath.success)
        ctx.addIssue({
          code: "custom",
          path: ["hostPath"],
          message: `"${input.env}" uses the host's files (target.kind: local): ${hostPath.error.issues[0]?.message}`,
        });
      const socket = hostPathSchema.safeParse(input.dockerSocketPath);
      if (!socket.success)
        ctx.addIssue({
          code: "custom",
          path: ["dockerSocketPath"],
          message:
            "must be the absolute path --docker-socket names, without ':' or ',', e.g. /run/user/1000/docker.sock",
        });
    }
    if (reachedOverSsh(targetKind) && !input.hasSshKey)
      ctx.addIssue({
        code: "custom",
        path: ["sshKey"],
        message: `"${input.env}" is reached over SSH (target.kind: ${targetKind}): pass the private key as a secret, e.g. --ssh-key=env://DEPLOY_SSH_KEY`,
      });
  });

export type DeployerAccessInput = z.input<typeof deployerAccess>;

/**
 * The access arguments as given to a function (each secret or socket present or not) and the environment's
 * facts, as the wiring reads them: what every deploy function, and the journey test, start from.
 */
export function accessInput(
  environment: EnvironmentFacts,
  access: {
    env: string;
    sshKey?: unknown;
    dockerSocket?: unknown;
    dockerSocketPath: string;
    hostPath: string;
    databaseUrl?: unknown;
    s3AccessKeyId?: unknown;
    s3SecretAccessKey?: unknown;
    webhookUrl?: unknown;
    adminToken?: unknown;
  },
): DeployerAccessInput {
  return {
    env: access.env,
    environment,
    hasSshKey: access.sshKey !== undefined,
    hasDockerSocket: access.dockerSocket !== undefined,
    hasDatabaseUrl: access.databaseUrl !== undefined,
    hasS3AccessKeyId: access.s3AccessKeyId !== undefined,
    hasS3SecretAccessKey: access.s3SecretAccessKey !== undefined,
    hasWebhookUrl: access.webhookUrl !== undefined,
    hasAdminToken: access.adminToken !== undefined,
    hostPath: access.hostPath,
    dockerSocketPath: access.dockerSocketPath,
  };
}
type DeployerAccess = z.output<typeof deployerAccess>;

/** Checks the access arguments alone, so a deploy fails on them before it tests, scans and publishes. */
export function checkDeployerAccess(raw: DeployerAccessInput): void {
  parseOrExplain(deployerAccess, raw, "arguments", asCliFlag);
}

export type DeployerInput = DeployerAccessInput & DeployerCommand;

/** What one deployer run needs; index.ts turns each field into the matching Dagger call. */
export interface DeployerWiring {
  argv: string[];
  /** Plain, non-secret variables. */
  variables: Record<string, string>;
  /**
   * Secret variables by name: the database URL under the environment's urlEnv, the scratch server's URL,
   * the off-site store's key pair under the names every S3 tool reads, the webhook's URL under the
   * environment's notify.webhookUrlEnv.
   */
  secretVariables: {
    databaseUrl?: string;
    scratchDatabaseUrl?: string;
    s3AccessKeyId?: string;
    s3SecretAccessKey?: string;
    webhookUrl?: string;
    /** setup's admin token, under the name setup reads it from (ADMIN_TOKEN). */
    adminToken?: string;
  };
  mountSshKey: boolean;
  mountDockerSocket: boolean;
  /** Restores a given dump file (mounted at RESTORE_FILE_PATH). */
  mountRestoreFile: boolean;
  /** Every command that takes a verified backup (not TAKE_NO_BACKUP) has it checked on a scratch Postgres. */
  scratchPostgres: boolean;
  /** For `local`: argv runs the CLI on the host's engine; the deployer image must be at DEPLOYER_TARBALL_PATH. */
  onHost?: { hostPath: string };
}

/** Where a restore's file is staged on the host, beside the environment's other state. */
export const stagedRestorePath = (hostPath: string, runId: string) =>
  `${hostPath}/.shipyard/incoming/restore-${runId}.dump`;

/**
 * The CLI's own arguments: `<command> --env=E … --json`, the restore file at `restoreFile`, a backup's copy
 * fetched to `fetchTo` (none: the module reads the file where the CLI keeps it).
 */
function cliArgs(env: string, command: DeployerCommand, restoreFile: string, fetchTo?: string): string[] {
  const flags: string[] = [];
  if (command.command === "backup" && fetchTo) flags.push(`--fetch-to=${fetchTo}`);
  if (command.command === "deploy") {
    flags.push(`--image=${command.image}`);
    if (command.release) flags.push(`--release=${command.release}`);
  }
  if (command.command === "rollback" && command.to) flags.push(`--to=${command.to}`);
  if (command.command === "restore") {
    flags.push(`--file=${restoreFile}`);
    if (command.confirm) flags.push(`--confirm=${command.confirm}`);
  }
  if (command.command === "audit" && command.limit) flags.push(`--limit=${command.limit}`);
  if (command.command === "logs") {
    if (command.service) flags.push(`--service=${command.service}`);
    if (command.since) flags.push(`--since=${command.since}`);
    if (command.tail) flags.push(`--tail=${command.tail}`);
  }
  return [command.command, `--env=${env}`, ...flags, "--json"];
}

/** The CLI call, exactly as a person runs it: `npm run shipyard -- <command> --env=E … --json`. */
function shipyardArgv(env: string, command: DeployerCommand): string[] {
  // --silent: npm's own banner would otherwise come before the JSON on stdout.
  return [
    "npm",
    "run",
    "--silent",
    "shipyard",
    "--",
    ...cliArgs(env, command, RESTORE_FILE_PATH, FETCHED_BACKUP_PATH),
  ];
}

/** The options that were given (trimmed, not empty): a flag left out is the CLI's default. */
function given<K extends string>(options: Record<K, string | undefined>): Partial<Record<K, string>> {
  return Object.fromEntries(
    Object.entries<string | undefined>(options)
      .map(([name, value]) => [name, value?.trim()] as const)
      .filter(([, value]) => value),
  ) as Partial<Record<K, string>>;
}

/** The command's own arguments, as given: the CLI checks them (image, release, --to, --confirm, --limit…). */
function commandOf(input: DeployerInput): DeployerCommand {
  switch (input.command) {
    case "deploy":
      return { command: "deploy", image: input.image.trim(), ...given({ release: input.release }) };
    case "rollback":
      return { command: "rollback", ...given({ to: input.to }) };
    case "restore":
      return { command: "restore", ...given({ confirm: input.confirm }) };
    case "audit":
      return { command: "audit", ...given({ limit: input.limit }) };
    case "logs":
      return { command: "logs", ...given({ service: input.service, since: input.since, tail: input.tail }) };
    default:
      return { command: input.command };
  }
}

/** The commands the CLI notifies the webhook of (deploy's NOTIFIED, checked against it by a unit test). */
export const NOTIFYING_COMMANDS: readonly DeployerCommand["command"][] = ["deploy", "rollback", "backup"];

export function deployerWiring(raw: DeployerInput): DeployerWiring {
  const access: DeployerAccess = parseOrExplain(
    deployerAccess,
    raw,
    `arguments for ${raw.command}`,
    asCliFlag,
  );
  const command = commandOf(raw);
  const takesBackup = !TAKE_NO_BACKUP.includes(command.command);
  // Backups checked on the host (backup.where: server) need no scratch Postgres beside the deployer.
  const checksBackupHere = takesBackup && !access.environment.backupsOnServer;
  const secretVariables = {
    ...(access.hasDatabaseUrl ? { databaseUrl: access.environment.urlEnv } : {}),
    // Every command that takes a backup uploads it where the environment says so.
    ...(takesBackup && access.hasS3AccessKeyId && access.hasS3SecretAccessKey
      ? { s3AccessKeyId: "AWS_ACCESS_KEY_ID", s3SecretAccessKey: "AWS_SECRET_ACCESS_KEY" }
      : {}),
    // Only where the CLI posts to it; the name is the environment's own, the URL a secret variable.
    ...(access.hasWebhookUrl &&
    access.environment.webhookUrlEnv &&
    NOTIFYING_COMMANDS.includes(command.command)
      ? { webhookUrl: access.environment.webhookUrlEnv }
      : {}),
    ...(access.hasAdminToken && command.command === "setup" ? { adminToken: "ADMIN_TOKEN" } : {}),
  };
  // The lock and the ledger record who acted.
  const who = { SHIPYARD_WHO: "dagger" };
  const common = {
    // Only where it is used: .env may name a key for every call, and `local` never reads one.
    mountSshKey: access.hasSshKey && reachedOverSsh(access.environment.targetKind),
    mountDockerSocket: access.hasDockerSocket,
    mountRestoreFile: command.command === "restore",
  };
  if (access.environment.targetKind === "local" && access.hostPath) {
    const hostPath = access.hostPath.trim();
    const staged = stagedRestorePath(hostPath, access.runId);
    return {
      ...common,
      argv: hostRunArgv({
        hostPath,
        dockerSocket: access.dockerSocketPath.trim(),
        workdir: WORKDIR,
        cliArgs: cliArgs(access.env, command, staged),
        // The checkout is the host's configuration already: a deploy has nothing to ship into it.
        variables: { ...who, SHIPYARD_CONFIG_SOURCE: hostPath },
        forward: Object.values(secretVariables),
        ...(command.command === "restore" ? { stage: { from: RESTORE_FILE_PATH, to: staged } } : {}),
      }),
      variables: {},
      secretVariables,
      // The CLI runs on the host, where no Dagger service reaches: its backups are checked beside the source.
      scratchPostgres: false,
      onHost: { hostPath },
    };
  }
  return {
    ...common,
    argv: shipyardArgv(access.env, command),
    variables: {
      ...(access.hasSshKey ? { SHIPYARD_SSH_KEY_FILE: SSH_KEY_PATH } : {}),
      ...who,
    },
    secretVariables: {
      ...secretVariables,
      ...(checksBackupHere ? { scratchDatabaseUrl: "SHIPYARD_SCRATCH_DATABASE_URL" } : {}),
    },
    scratchPostgres: checksBackupHere,
  };
}

const cliAnswer = z.object({
  ok: z.boolean(),
  command: z.string(),
  result: z.unknown().optional(),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
  steps: z.array(z.object({ step: z.string(), ok: z.boolean() }).loose()).optional(),
});

export interface DeployerOutcome {
  ok: boolean;
  /** The CLI's --json answer, re-indented; what the function returns. */
  json: string;
  /** One paragraph for a failure: the CLI's error, the steps that ran, and the end of its stderr. */
  summary: string;
  result: unknown;
}

/** Reads a CLI run; a run that printed no JSON (it crashed before) is a failure explained by its stderr. */
export function deployerOutcome(exitCode: number, stdout: string, stderr: string): DeployerOutcome {
  const tail = stderr.trim().split("\n").slice(-20).join("\n");
  let parsed: z.output<typeof cliAnswer> | undefined;
  try {
    const answer = cliAnswer.safeParse(JSON.parse(stdout));
    if (answer.success) parsed = answer.data;
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    return {
      ok: false,
      json: stdout,
      summary: `the deploy CLI exited ${exitCode} without a JSON answer:\n${tail}`,
      result: undefined,
    };
  }
  const ok = exitCode === 0 && parsed.ok;
  const steps = (parsed.steps ?? []).map((s) => `${s.ok ? "✓" : "✗"} ${s.step}`).join("\n");
  const summary = ok
    ? `${parsed.command} succeeded`
    : `${parsed.command} failed (exit ${exitCode}): ${parsed.error?.message ?? "no error reported"}` +
      (steps ? `\nsteps:\n${steps}` : "") +
      (tail ? `\nlog:\n${tail}` : "");
  return { ok, json: JSON.stringify(JSON.parse(stdout), null, 2), summary, result: parsed.result };
}

/**
 * Where backup --json says the verified file is: its copy here (--fetch-to) when the backup is kept on the
 * server, else where it is kept. For an environment that encrypts its backups (backup.encryptTo) that must
 * be the age-encrypted file: a plain dump is refused rather than handed out, since what `backup` returns is
 * exported, uploaded as an artifact, kept off the server.
 */
export function backupFilePath(result: unknown, environment: { encryptsBackups: boolean }): string {
  const parsed = z
    .object({
      path: z.string().startsWith("/"),
      fetchedTo: z.string().startsWith("/").optional(),
      backup: z.object({ encrypted: z.boolean() }).loose().optional(),
    })
    .loose()
    .safeParse(result);
  if (!parsed.success) throw new Error("the backup's answer names no file (expected result.path)");
  const { path, fetchedTo, backup } = parsed.data;
  const file = fetchedTo ?? path;
  const encrypted = backup?.encrypted ?? file.endsWith(".age");
  if (environment.encryptsBackups && !encrypted)
    throw new Error(
      `the environment encrypts its backups (backup.encryptTo), but the backup's answer names a plain file (${file}): not returning it`,
    );
  return file;
}

/** The scratch server's URL inside the deployer; its user is the image's superuser, so it may create databases. */
export function scratchDatabaseUrl(password: string): string {
  const { user, database } = SCRATCH_DATABASE;
  return `postgres://${user}:${encodeURIComponent(password)}@${SCRATCH_POSTGRES_HOST}:5432/${database}`;
}
