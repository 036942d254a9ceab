/**
 * A new server in one command, as its steps: what `setup` runs and what its --dry-run prints (steps.ts runs
 * or prints the one list). It checks Docker and compose, looks at what the host has, then under the deploy
 * lock makes only what is missing: the directories, the configuration (shipped as a deploy ships it), a
 * compose/.env with fresh secrets, nginx's upstream file and a temporary self-signed certificate. Nothing
 * there is ever replaced, so a second run changes nothing and says so, item by item.
 *
 * The lock: setup writes files a deploy reads (compose/.env, the configuration, upstream.conf), and ships
 * the configuration through a snapshot in the state directory, as a deploy does; a deploy running beside it
 * would read half of them, or have its undo put back what setup wrote.
 */
import path from "node:path";
import { parse } from "yaml";
import { selfSignedCertificate, TEMPORARY_CERTIFICATE_DAYS } from "../commands/certificate.js";
import { checkComposeConfig, composeVersion } from "../commands/compose.js";
import {
  type ConfigShipment,
  configBase,
  configSnapshot,
  removeSnapshot,
  UPSTREAM_FILE,
} from "../commands/config.js";
import { dockerVersion } from "../commands/docker.js";
import { makeDirectories, presentPaths, readSettings, writeNewFile } from "../commands/files.js";
import type { LockHolder } from "../commands/lock.js";
import { swarmUpstreamConf, upstreamConf } from "../commands/nginx.js";
import {
  checkStackRenders,
  createSecret,
  renderWithSecrets,
  stackSecrets,
  swarmState,
} from "../commands/swarm.js";
import type { Environment } from "../config/environments.js";
import type { PlannedStep, Progress } from "../progress.js";
import { withBundle } from "../release/deploy.js";
import { type ConfigChange, shipConfigSteps } from "../release/release.js";
import { localRunner, type Runner } from "../runner.js";
import {
  type Exec,
  effect,
  later,
  type Operation,
  planOperation,
  runOperation,
  runSteps,
  type Steps,
  step,
} from "../steps.js";
import { requireManager } from "../swarm/decisions.js";
import { newestSecrets, secretsToCreate, secretVariables } from "../swarm/secrets.js";
import {
  certificateDirectory,
  listenSettings,
  parseStackSettings,
  SETTINGS_READ,
  STACK_SECRETS,
  type StackSettings,
  secretValues,
  stackEnvText,
} from "./stack-env.js";
import { checkComposeVersion, checkEngineVersion } from "./versions.js";

export interface SetupContext {
  environment: Environment;
  runner: Runner;
  /** Packs the configuration on this machine; default: a local runner. */
  local?: Runner;
  progress: Progress;
  who: string;
  /** The repository's configuration, shipped where the host has no compose.yaml; null: the host's checkout is it. */
  config: ConfigShipment | null;
  /** The repository's compose/.env.example: the template of a fresh compose/.env. */
  envTemplate: string;
  /** Secrets given in the CLI's environment under their names (STACK_SECRETS); the others are made fresh. */
  given?: Readonly<Record<string, string | undefined>>;
  /** Makes each fresh secret; default: 24 random bytes as hex. */
  secret?: () => string;
}

/** What setup prepares, in the order it reports them. */
export const SETUP_ITEMS = [
  "compose directory",
  "nginx conf directory",
  "state directory",
  "backup directory",
  "configuration",
  "compose/.env",
  "nginx upstream",
  "TLS certificate",
  "Swarm secrets",
] as const;
export type SetupItem = (typeof SETUP_ITEMS)[number];

export interface SetupReport {
  item: SetupItem;
  path: string;
  state: "created" | "already set up";
}

/** What the steps find out, in the order they do. */
export interface SetupFacts {
  engine: string;
  compose: string;
  /** The paths the look at the host found (directories, compose.yaml, compose/.env, upstream.conf). */
  present: string[];
  /** From the host's compose/.env; null while it has none (setup writes one from the template). */
  settings: StackSettings | null;
  /** Where the certificate is (TLS_CERT_DIR), and which of its files the host has: none or both. */
  certificateDirectory: string;
  certificate: string[];
  /** Set by the configuration's snapshot (shipConfigSteps). */
  config: ConfigChange | null;
  /** On Swarm, the stack's secrets in the swarm (variable → name); null elsewhere. */
  swarmSecrets: Record<string, string> | null;
  created: SetupItem[];
}

export function startingSetupFacts(): SetupFacts {
  return {
    engine: "",
    compose: "",
    present: [],
    settings: null,
    certificateDirectory: "",
    certificate: [],
    config: null,
    swarmSecrets: null,
    created: [],
  };
}

/** The paths setup looks at and makes on the host, from the environment alone. */
export function setupPaths(env: Environment) {
  const compose = env.compose.directory;
  const directories: [SetupItem, string][] = [
    ["compose directory", compose],
    ["nginx conf directory", env.compose.nginxConfDirectory],
    ["state directory", env.stateDirectory],
  ];
  // Backups live on the host when made there (where: server), or on the machine running the CLI, which
  // for a local environment is the host too.
  if (env.backup.where === "server" || env.target.kind === "local")
    directories.push(["backup directory", env.backup.directory]);
  return {
    /** The directory holding compose/ and nginx/; throws when nginxConfDirectory disagrees with compose.yaml. */
    base: configBase(env),
    directories,
    composeFile: path.posix.join(compose, "compose.yaml"),
    envFile: path.posix.join(compose, ".env"),
    upstream: path.posix.join(env.compose.nginxConfDirectory, "upstream.conf"),
    certificateDirectory: (settings: StackSettings) => certificateDirectory(compose, settings),
  };
}

const CERTIFICATE_FILES = ["fullchain.pem", "privkey.pem"];
const SNAPSHOT_NAME = "setup";

/** The looks at the host: checks of the operation, and what a dry run reads to print the exact steps. */
export function surveySteps(ctx: SetupContext): Steps<SetupFacts> {
  const env = ctx.environment;
  const paths = setupPaths(env);
  const looked = [...paths.directories.map(([, p]) => p), paths.composeFile, paths.envFile, paths.upstream];
  const settingsOf = (f: SetupFacts) => f.settings ?? parseStackSettings(ctx.envTemplate);
  return [
    step("look at the host", presentPaths(looked), {
      keep: (r, f) => {
        f.present = r.stdout.split("\n").filter(Boolean);
      },
      detail: (r) => `${r.stdout.split("\n").filter(Boolean).length} of ${looked.length} paths there already`,
      note: "which directories and files are there already: those are left as they are",
    }),
    later((f) =>
      f.present.includes(paths.envFile)
        ? [
            step("read compose/.env settings", readSettings(paths.envFile, SETTINGS_READ), {
              keep: (r, f) => {
                f.settings = parseStackSettings(r.stdout);
              },
              note: `only ${SETTINGS_READ.join(" and ")}: where the certificate goes, and the image that makes it`,
            }),
          ]
        : [],
    ),
    later((f) => {
      const dir = paths.certificateDirectory(settingsOf(f));
      const files = CERTIFICATE_FILES.map((name) => path.posix.join(dir, name));
      return [
        step("look for a certificate", presentPaths(files), {
          keep: (r, f) => {
            const found = r.stdout.split("\n").filter(Boolean);
            // Half a certificate is someone's work in progress: not made over, not taken for one.
            if (found.length === 1)
              throw new Error(
                `${found[0]} is there without ${files.find((p) => p !== found[0])}: complete or remove it, then run setup again`,
              );
            f.certificateDirectory = dir;
            f.certificate = found;
          },
        }),
      ];
    }),
    ...(env.target.kind === "swarm"
      ? [
          step<SetupFacts>("look for the stack's Swarm secrets", stackSecrets(env.compose.project), {
            keep: (r, f) => {
              f.swarmSecrets = newestSecrets(r.stdout);
            },
            detail: (r) => `${Object.keys(newestSecrets(r.stdout)).length} variables`,
            note: "names and labels only, never a value: with none, setup makes them",
          }),
        ]
      : []),
  ];
}

/** Setup: the checks and the look at the host, then under the lock what is missing, then compose's own check. */
export function setup(ctx: SetupContext, bundle: string): Operation<SetupFacts> {
  const { environment: env, runner } = ctx;
  const paths = setupPaths(env);
  const settingsOf = (f: SetupFacts) => f.settings ?? parseStackSettings(ctx.envTemplate);
  const absent = (f: SetupFacts, p: string) => !f.present.includes(p);
  const made = (item: SetupItem) => ({
    keep: (_: unknown, f: SetupFacts) => {
      f.created.push(item);
    },
  });
  const swarm = env.target.kind === "swarm";
  const secrets = () => secretValues(ctx.given ?? {}, ctx.secret);
  const shipment = ctx.config && {
    ...ctx.config,
    // The upstream is setup's own step below, written only where there is none, like every other file.
    files: ctx.config.files.filter((file) => file !== UPSTREAM_FILE),
  };

  return {
    checks: [
      step("preflight: docker", dockerVersion(), {
        keep: (r, f) => {
          f.engine = checkEngineVersion(r.stdout);
        },
        detail: (r) => `engine ${r.stdout.trim()} on ${runner.where}`,
      }),
      step("preflight: compose", composeVersion(env), {
        keep: (r, f) => {
          f.compose = checkComposeVersion(r.stdout);
        },
        detail: (r) => r.stdout.trim().split("\n")[0],
      }),
      ...(env.target.kind === "swarm"
        ? [
            step<SetupFacts>("preflight: swarm manager", swarmState(), {
              keep: (r) => requireManager(r.stdout, runner.where),
              note: "Swarm secrets are made on a manager",
            }),
          ]
        : []),
      ...surveySteps(ctx),
    ],
    lock: { environment: env, who: ctx.who, purpose: "setup" },
    reads: [],
    changes: [
      later((f) => {
        const missing = paths.directories.filter(([, p]) => absent(f, p));
        if (missing.length === 0) return [];
        return [
          step("create directories", makeDirectories(missing.map(([, p]) => p)), {
            keep: (_, f) => {
              f.created.push(...missing.map(([item]) => item));
            },
            detail: () => missing.map(([, p]) => p).join(", "),
          }),
        ];
      }),
      later((f) =>
        absent(f, paths.composeFile) && shipment
          ? [
              // The deploy's notes speak of its undo, which setup has not: what it made stays made.
              ...shipConfigSteps<SetupFacts>(env, runner.where, SNAPSHOT_NAME, shipment, bundle).map(
                ({ note, ...s }) => (s.name.includes("snapshot") ? s : { ...s, note }),
              ),
              step("drop config snapshot", removeSnapshot(configSnapshot(env, SNAPSHOT_NAME)), {
                ...made("configuration"),
                note: "the snapshot is a deploy's, for its undo; setup undoes nothing",
              }),
            ]
          : [],
      ),
      later((f) =>
        absent(f, paths.envFile)
          ? [
              step(
                "write compose/.env",
                writeNewFile(
                  paths.envFile,
                  stackEnvText(ctx.envTemplate, listenSettings(env.publicUrl), swarm ? null : secrets()),
                  "600",
                ),
                {
                  ...made("compose/.env"),
                  note: swarm
                    ? `stdin: compose/.env.example with nginx listening as ${env.publicUrl} says, and no secret (they are the swarm's); mode 0600`
                    : `stdin: compose/.env.example with secrets (${STACK_SECRETS.join(", ")}: given in the environment, or fresh) and nginx listening as ${env.publicUrl} says; mode 0600`,
                },
              ),
            ]
          : [],
      ),
      later((f) =>
        absent(f, paths.upstream)
          ? [
              step(
                "install nginx upstream",
                writeNewFile(
                  paths.upstream,
                  swarm
                    ? swarmUpstreamConf(env.compose.appService, env.app.port)
                    : upstreamConf(env.compose.appService, [], env.app.port),
                  "644",
                ),
                {
                  ...made("nginx upstream"),
                  note: `stdin: upstream.conf naming the ${env.compose.appService} service; each deploy rewrites it`,
                },
              ),
            ]
          : [],
      ),
      later((f) => {
        if (f.certificate.length > 0) return [];
        const { nginxImage } = settingsOf(f);
        const hostname = new URL(env.publicUrl).hostname;
        return [
          step(
            "make a temporary certificate",
            selfSignedCertificate(f.certificateDirectory, nginxImage, hostname),
            {
              ...made("TLS certificate"),
              detail: () => `self-signed for ${hostname}, ${TEMPORARY_CERTIFICATE_DAYS} days`,
              note: `openssl in a throw-away ${nginxImage} container (no network): self-signed for ${hostname}, ${TEMPORARY_CERTIFICATE_DAYS} days; the key 0600, nginx's`,
            },
          ),
        ];
      }),
      later((f) =>
        f.swarmSecrets && Object.keys(f.swarmSecrets).length === 0
          ? [
              effect<SetupFacts, string[]>(
                "make the Swarm secrets",
                (_, x) => makeSwarmSecrets(x.runner, env, secrets()),
                {
                  ...made("Swarm secrets"),
                  detail: (variables) => variables.join(", "),
                  note: `compose renders compose.yaml with the secrets (${STACK_SECRETS.join(", ")}: given in the environment, or fresh) on stdin; each secret variable's value becomes a Swarm secret, on stdin too`,
                },
              ),
            ]
          : [],
      ),
    ],
    after: [
      step("check compose configuration", swarm ? checkStackRenders(env) : checkComposeConfig(env), {
        note: swarm
          ? "compose.yaml with compose/.env and a placeholder for each secret, as a deploy renders it"
          : "compose.yaml with compose/.env: every variable the stack requires is set",
      }),
    ],
    // What setup made stays: each item is whole or absent, and the next run makes only what is missing.
    undo: () => [],
    failed: async (cause, at) =>
      new Error(
        `setup of ${env.name} failed at "${at ?? "setup"}": ${cause.message}\n` +
          "  what it made stays; run setup again once this is fixed: it makes only what is missing",
      ),
  };
}

/**
 * The stack's Swarm secrets, made from what compose renders of compose.yaml with `values` (on stdin), each
 * created with its value on stdin; returns the variables they are for.
 */
export async function makeSwarmSecrets(
  runner: Runner,
  env: Environment,
  values: Readonly<Record<string, string>>,
): Promise<string[]> {
  const rendered = await runner.run(renderWithSecrets(env, values));
  const made = secretsToCreate(
    parse(rendered.stdout) as Record<string, unknown>,
    secretVariables(env.app.secrets),
    env.compose.project,
  );
  for (const secret of made) await runner.run(createSecret(env.compose.project, secret));
  return made.map((secret) => secret.variable);
}

/** Each item, with where it is and whether this run made it. */
export function setupReport(env: Environment, f: SetupFacts): SetupReport[] {
  const paths = setupPaths(env);
  const where: Partial<Record<SetupItem, string>> = {
    ...Object.fromEntries(paths.directories),
    configuration: paths.composeFile,
    "compose/.env": paths.envFile,
    "nginx upstream": paths.upstream,
    "TLS certificate": f.certificateDirectory,
    ...(env.target.kind === "swarm" ? { "Swarm secrets": `the swarm, stack ${env.compose.project}` } : {}),
  };
  return SETUP_ITEMS.filter((item) => where[item] !== undefined).map((item) => ({
    item,
    path: where[item] as string,
    state: f.created.includes(item) ? "created" : "already set up",
  }));
}

function exec(ctx: SetupContext): Exec {
  return {
    runner: ctx.runner,
    local: ctx.local ?? localRunner(ctx.environment.timeouts.commandSeconds),
    progress: ctx.progress,
  };
}

/** Runs setup; what it found and made is in the returned facts (setupReport turns them into lines). */
export async function runSetup(ctx: SetupContext): Promise<SetupFacts> {
  const facts = startingSetupFacts();
  await withBundle((bundle) => runOperation(setup(ctx, bundle), facts, exec(ctx)));
  return facts;
}

/** What --dry-run prints: the host is looked at for real (it only reads), then every step a run would take. */
export async function setupPlan(ctx: SetupContext, holder: LockHolder): Promise<PlannedStep[]> {
  const facts = startingSetupFacts();
  await runSteps(surveySteps(ctx), facts, exec(ctx));
  return planOperation(setup(ctx, "<bundle.tar>"), facts, holder);
}
