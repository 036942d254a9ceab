/**
 * How the deploy functions run the repository's deploy CLI (deploy/src/cli.ts) in a deployer container:
 * its argv, which secrets and host resources it gets, and the reading of its --json answer. Plain data,
 * so the wiring is unit-tested without an engine; src/index.ts only applies it.
 */
import { z } from "zod";
import { hostPathSchema, hostRunArgv } from "./host-run.js";
import { asCliFlag, InvalidInputError, parseOrExplain } from "./invalid-input.js";

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
/** Where the deployer has the repository (the Dagger source), and where the CLI runs from. */
export const WORKDIR = "/src";
/** The throwaway Postgres every backup is restored into and counted on before it counts. */
export const SCRATCH_POSTGRES_HOST = "scratch-postgres";
export const SCRATCH_DATABASE = { user: "shipyard", database: "scratch" } as const;

export type DeployerCommand = "deploy" | "backup" | "restore" | "rollback" | "status";

const environmentName = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9-]*$/, "must name an environment of deploy/environments.yaml, e.g. prod or local");

const variableName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name, e.g. PROD_DATABASE_URL");

const optionalName = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^([A-Za-z0-9][A-Za-z0-9._-]*)?$/, `must be ${what}`)
    .optional();

const deployerInput = z
  .object({
    command: z.enum(["deploy", "backup", "restore", "rollback", "status"]),
    env: environmentName,
    /**
     * How the environment is reached: its target.kind in deploy/environments.yaml (see environments.ts).
     * Optional in the type only so a caller that leaves it out gets the line below, not a guess by name.
     */
    targetKind: z.enum(["local", "ssh"]).optional(),
    /** Only for deploy: the image published moments before, by digest. */
    image: z
      .string()
      .regex(/^[^\s@]+@sha256:[a-f0-9]{64}$/, "must be an image reference pinned by digest (name@sha256:…)")
      .optional(),
    release: optionalName("a release name ([A-Za-z0-9._-])"),
    to: optionalName("a release name from the ledger (see the status function)"),
    confirm: optionalName("the environment's name"),
    databaseUrlVariable: variableName,
    hasSshKey: z.boolean(),
    hasDockerSocket: z.boolean(),
    hasDatabaseUrl: z.boolean(),
    /** The off-site store's key pair, for environments with backup.upload. */
    hasS3AccessKeyId: z.boolean().default(false),
    hasS3SecretAccessKey: z.boolean().default(false),
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
    if (input.targetKind === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["targetKind"],
        message: `say how "${input.env}" is reached: its target.kind in deploy/environments.yaml (local or ssh)`,
      });
    if (input.hasS3AccessKeyId !== input.hasS3SecretAccessKey)
      ctx.addIssue({
        code: "custom",
        path: [input.hasS3AccessKeyId ? "s3SecretAccessKey" : "s3AccessKeyId"],
        message:
          "the off-site store's key is a pair: pass both --s3-access-key-id and --s3-secret-access-key, or neither",
      });
    if (input.targetKind === "local" && !input.hasDockerSocket)
      ctx.addIssue({
        code: "custom",
        path: ["dockerSocket"],
        message: `"${input.env}" runs on the host's Docker engine (target.kind: local): pass --docker-socket=/var/run/docker.sock (or your engine's socket)`,
      });
    if (input.targetKind === "local") {
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
    if (input.targetKind === "ssh" && !input.hasSshKey)
      ctx.addIssue({
        code: "custom",
        path: ["sshKey"],
        message: `"${input.env}" is reached over SSH (target.kind: ssh): pass the private key as a secret, e.g. --ssh-key=env://DEPLOY_SSH_KEY`,
      });
  });

export type DeployerInput = z.input<typeof deployerInput>;

/** What one deployer run needs; index.ts turns each field into the matching Dagger call. */
export interface DeployerWiring {
  argv: string[];
  /** Plain, non-secret variables. */
  variables: Record<string, string>;
  /**
   * Secret variables by name: the database URL under the environment's urlEnv, the scratch server's URL,
   * the off-site store's key pair under the names every S3 tool reads.
   */
  secretVariables: {
    databaseUrl?: string;
    scratchDatabaseUrl?: string;
    s3AccessKeyId?: string;
    s3SecretAccessKey?: string;
  };
  mountSshKey: boolean;
  mountDockerSocket: boolean;
  /** Restores a given dump file (mounted at RESTORE_FILE_PATH). */
  mountRestoreFile: boolean;
  /** Every command but status takes a verified backup, which is checked on a scratch Postgres. */
  scratchPostgres: boolean;
  /** For `local`: argv runs the CLI on the host's engine; the deployer image must be at DEPLOYER_TARBALL_PATH. */
  onHost?: { hostPath: string };
}

type ParsedInput = z.output<typeof deployerInput>;

/** Where a restore's file is staged on the host, beside the environment's other state. */
export const stagedRestorePath = (hostPath: string, runId: string) =>
  `${hostPath}/.shipyard/incoming/restore-${runId}.dump`;

/** The CLI's own arguments: `<command> --env=E … --json`, the restore file at `restoreFile`. */
function cliArgs(input: ParsedInput, restoreFile: string): string[] {
  const flags: string[] = [];
  if (input.command === "deploy") {
    if (!input.image) throw new InvalidInputError("deploy needs the published image (name@sha256:…)");
    flags.push(`--image=${input.image}`);
    if (input.release) flags.push(`--release=${input.release}`);
  }
  if (input.command === "rollback" && input.to) flags.push(`--to=${input.to}`);
  if (input.command === "restore") {
    flags.push(`--file=${restoreFile}`);
    if (input.confirm) flags.push(`--confirm=${input.confirm}`);
  }
  return [input.command, `--env=${input.env}`, ...flags, "--json"];
}

/** The CLI call, exactly as a person runs it: `npm run shipyard -- <command> --env=E … --json`. */
export function shipyardArgv(input: ParsedInput): string[] {
  // --silent: npm's own banner would otherwise come before the JSON on stdout.
  return ["npm", "run", "--silent", "shipyard", "--", ...cliArgs(input, RESTORE_FILE_PATH)];
}

export function deployerWiring(raw: DeployerInput): DeployerWiring {
  const input = parseOrExplain(deployerInput, raw, `arguments for ${raw.command}`, asCliFlag);
  const takesBackup = input.command !== "status";
  const secretVariables = {
    ...(input.hasDatabaseUrl ? { databaseUrl: input.databaseUrlVariable } : {}),
    // Every command that takes a backup uploads it where the environment says so.
    ...(takesBackup && input.hasS3AccessKeyId && input.hasS3SecretAccessKey
      ? { s3AccessKeyId: "AWS_ACCESS_KEY_ID", s3SecretAccessKey: "AWS_SECRET_ACCESS_KEY" }
      : {}),
  };
  // The lock and the ledger record who acted.
  const who = { SHIPYARD_WHO: "dagger" };
  const common = {
    mountSshKey: input.hasSshKey,
    mountDockerSocket: input.hasDockerSocket,
    mountRestoreFile: input.command === "restore",
  };
  if (input.targetKind === "local" && input.hostPath) {
    const hostPath = input.hostPath.trim();
    const staged = stagedRestorePath(hostPath, input.runId);
    return {
      ...common,
      argv: hostRunArgv({
        hostPath,
        dockerSocket: input.dockerSocketPath.trim(),
        workdir: WORKDIR,
        cliArgs: cliArgs(input, staged),
        // The checkout is the host's configuration already: a deploy has nothing to ship into it.
        variables: { ...who, SHIPYARD_CONFIG_SOURCE: hostPath },
        forward: Object.values(secretVariables),
        ...(input.command === "restore" ? { stage: { from: RESTORE_FILE_PATH, to: staged } } : {}),
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
    argv: shipyardArgv(input),
    variables: {
      ...(input.hasSshKey ? { SHIPYARD_SSH_KEY_FILE: SSH_KEY_PATH } : {}),
      ...who,
    },
    secretVariables: {
      ...secretVariables,
      ...(takesBackup ? { scratchDatabaseUrl: "SHIPYARD_SCRATCH_DATABASE_URL" } : {}),
    },
    scratchPostgres: takesBackup,
  };
}

/** The reference a deploy pins: the first line of publish's answer that names an image by digest. */
export function pinnedReference(publishOutput: string): string {
  const reference = publishOutput
    .split("\n")
    .map((line) => line.trim())
    .find((line) => /^[^\s@]+@sha256:[a-f0-9]{64}$/.test(line));
  if (!reference) throw new Error(`publish returned no reference with a digest:\n${publishOutput}`);
  return reference;
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

/** Where backup --json says the verified file is. */
export function backupFilePath(result: unknown): string {
  const parsed = z
    .object({ path: z.string().startsWith("/") })
    .loose()
    .safeParse(result);
  if (!parsed.success) throw new Error("the backup's answer names no file (expected result.path)");
  return parsed.data.path;
}

/** The scratch server's URL inside the deployer; its user is the image's superuser, so it may create databases. */
export function scratchDatabaseUrl(password: string): string {
  const { user, database } = SCRATCH_DATABASE;
  return `postgres://${user}:${encodeURIComponent(password)}@${SCRATCH_POSTGRES_HOST}:5432/${database}`;
}
