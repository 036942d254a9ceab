#!/usr/bin/env -S node --import tsx
/**
 * shipyard: back up, restore and inspect an environment from any machine.
 *   npm run shipyard -- backup --env=local [--dry-run] [--json]
 * Progress goes to stderr step by step; the summary (or --json) to stdout.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type BackupContext,
  type BackupResult,
  backup,
  dumpsInContainer,
  importBackup,
  planBackup,
  uploadById,
} from "./backup/backup.js";
import { findBackup, readCatalog } from "./backup/catalog.js";
import { checkConfirmation, planImport, planRestore, restore } from "./backup/restore.js";
import { parseLedger, type ReleaseRecord, recentReleases } from "./commands/ledger.js";
import { breakLock, describeHolder } from "./commands/lock.js";
import { type Connection, parseDatabaseUrl } from "./commands/postgres.js";
import { listAppContainers } from "./commands/release.js";
import { ConfigError, type Environment, loadEnvironment } from "./config/environments.js";
import { SIGNAL_EXIT_CODES, withInterrupts } from "./interrupts.js";
import { currentHolder } from "./lock/lock.js";
import { type PlannedStep, Progress, seconds } from "./progress.js";
import {
  defaultReleaseName,
  parseContainers,
  requirePinnedImage,
  rollbackRequest,
} from "./release/decisions.js";
import { configToShip, deploy } from "./release/deploy.js";
import { type DeployContext, DeployFailed, type DeployRequest, releasePlan } from "./release/release.js";
import { localRunner, type Runner, runnerFor } from "./runner.js";
import { checkHealth, currentRelease } from "./status.js";

const USAGE = `usage: shipyard <command> --env=NAME [options]

commands:
  deploy --image=NAME@sha256:…  zero-downtime release (lock, backup, pull, migrate, start beside, healthy, switch nginx, verify, stop old); rolls back on failure
  rollback [--to=RELEASE]     bring back the previous succeeded release (or the one named) the same zero-downtime way
  backup                      verified backup of the environment's database (pg_dump, restore check, catalog, retention)
  restore --backup=ID         restore a catalogued backup (a safety backup is taken first; --confirm=NAME where required)
  restore --file=PATH         restore a dump made elsewhere (e.g. exported by dagger call backup): verified and catalogued first
  upload --backup=ID          upload a catalogued backup to the environment's backup.upload store (again)
  backups                     list the verified backups in the catalog
  releases [--limit=N]        the last releases from the ledger on the host
  lock status | lock break    show the deploy lock, or remove a stale one
  status                      health through the public URL, current release, lock, recent releases and backups

options:
  --env=NAME      environment from the environments file (required)
  --config=PATH   environments file (default: $SHIPYARD_ENVIRONMENTS or deploy/environments.yaml)
  --dry-run       print the plan (every command with its arguments) and do nothing
  --json          machine-readable summary on stdout
  --release=NAME  deploy: the release name /version shows and the ledger keeps (default: UTC timestamp)
  --no-backup     deploy/rollback: skip the verified backup before the release (say so consciously)

environment:
  the variable named by database.urlEnv (e.g. DATABASE_URL)   connection URL of the database
  SHIPYARD_SSH_KEY or SHIPYARD_SSH_KEY_FILE                   private key for ssh environments
  SHIPYARD_AGE_IDENTITY_FILE                                  age identity to restore encrypted backups
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [AWS_SESSION_TOKEN] the store's key, for backup.upload
  SHIPYARD_SCRATCH_DATABASE_URL                               a Postgres server to restore-check backups on
                                                              (default: a scratch database beside the source;
                                                              required when database.dumpFrom is compose-service)
  PG_BIN_DIR                                                  where pg_dump/pg_restore live (default: PATH)
  SHIPYARD_WHO                                                who to record as lock holder (default: user@host)
  SHIPYARD_CONFIG_SOURCE                                      deploy: the repository whose compose/ and nginx/
                                                              configuration is shipped (default: this one)`;

const COMMANDS = [
  "deploy",
  "rollback",
  "backup",
  "upload",
  "restore",
  "backups",
  "releases",
  "lock",
  "status",
];

class UsageError extends Error {
  override name = "UsageError";
}

/** The repository this CLI belongs to: a deploy ships its compose and nginx configuration. */
const configSource = () =>
  path.resolve(process.env.SHIPYARD_CONFIG_SOURCE ?? fileURLToPath(new URL("../../", import.meta.url)));

const defaultConfig = () =>
  process.env.SHIPYARD_ENVIRONMENTS ?? fileURLToPath(new URL("../environments.yaml", import.meta.url));

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        env: { type: "string" },
        config: { type: "string" },
        backup: { type: "string" },
        file: { type: "string" },
        confirm: { type: "string" },
        limit: { type: "string" },
        image: { type: "string" },
        release: { type: "string" },
        to: { type: "string" },
        "no-backup": { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The database's URL; an environment backed up and restored inside its container never needs one. */
function connectionFor(environment: Environment, required: boolean): Connection {
  const variable = environment.database.urlEnv;
  const url = process.env[variable];
  if (url) return parseDatabaseUrl(url, variable);
  if (required && !dumpsInContainer(environment))
    throw new UsageError(`${variable} is not set: it must hold the database URL of "${environment.name}"`);
  const placeholder = `<database from $${variable}>`;
  return {
    host: placeholder,
    port: "5432",
    user: "",
    password: "",
    database: placeholder,
    sslmode: undefined,
  };
}

const SCRATCH_URL = "SHIPYARD_SCRATCH_DATABASE_URL";

/** Where a backup is restored and counted before it counts; without one, a scratch database beside the source. */
function scratchServer(environment: Environment, required: boolean): Connection | undefined {
  const url = process.env[SCRATCH_URL];
  if (url) return parseDatabaseUrl(url, SCRATCH_URL);
  if (required)
    throw new UsageError(
      `${SCRATCH_URL} is not set: "${environment.name}" dumps inside its Postgres container (database.dumpFrom: compose-service), ` +
        "so the backup is checked on a separate server; set it to a URL whose user may create databases there",
    );
  return undefined;
}

/** `checks`: whether this run restores dumps to check them (not a dry run, not an upload of a made backup). */
function backupContext(
  environment: Environment,
  conn: Connection,
  progress: Progress,
  checks = true,
): BackupContext {
  const scratch = scratchServer(environment, dumpsInContainer(environment) && checks);
  return {
    environment,
    conn,
    ...(scratch ? { scratch } : {}),
    tools: { binDir: process.env.PG_BIN_DIR || null },
    runner: localRunner(environment.timeouts.commandSeconds),
    progress,
    directory: path.resolve(environment.backup.directory),
  };
}

const who = () => process.env.SHIPYARD_WHO ?? `${os.userInfo().username}@${os.hostname()}`;

interface Outcome {
  plan?: PlannedStep[];
  result?: unknown;
  /** Lines for humans; --json prints `result` instead. */
  summary: string[];
  /** The command did its main work but something asked of it failed: reported, and the exit code is 1. */
  problem?: { kind: string; message: string };
}

/** The off-site copy failed after the backup was verified and kept: say both, and how to retry. */
function uploadProblem(environment: Environment, result: BackupResult): Outcome["problem"] {
  if (result.upload?.ok !== false) return undefined;
  return {
    kind: "UploadFailed",
    message:
      `backup ${result.entry.id} is verified and kept here, but its off-site copy failed: ${result.upload.error}\n` +
      `retry with: shipyard upload --env=${environment.name} --backup=${result.entry.id}`,
  };
}

const offsiteLine = (result: BackupResult) =>
  result.upload?.ok ? [`off-site copy at ${result.upload.url}, read back intact`] : [];

async function execute(
  command: string,
  sub: string | undefined,
  values: ReturnType<typeof parse>["values"],
  progress: Progress,
): Promise<Outcome> {
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command "${command}"; valid commands: ${COMMANDS.join(", ")}`);
  }
  const environment = await loadEnvironment(values.config ?? defaultConfig(), values.env);
  const dryRun = values["dry-run"];

  if (command === "deploy" || command === "rollback") {
    return releaseCommand(command, environment, values, progress);
  }

  if (command === "backup") {
    const ctx = backupContext(environment, connectionFor(environment, !dryRun), progress, !dryRun);
    if (dryRun) return { plan: planBackup(ctx), summary: [] };
    const done = await backup(ctx);
    const { entry, removed } = done;
    const problem = uploadProblem(environment, done);
    return {
      result: {
        backup: entry,
        path: path.join(ctx.directory, entry.file),
        removedByRetention: removed,
        ...(done.upload ? { upload: done.upload } : {}),
      },
      ...(problem ? { problem } : {}),
      summary: [
        `backup ${entry.id} verified: ${entry.tables.length} tables, ${entry.tables.reduce((n, t) => n + t.rows, 0)} rows, ` +
          `${(entry.sizeBytes / 1e6).toFixed(2)} MB, sha256 ${entry.sha256}`,
        `stored at ${path.join(ctx.directory, entry.file)}${entry.encrypted ? " (age-encrypted)" : ""}`,
        ...offsiteLine(done),
        ...(removed.length ? [`retention removed ${removed.join(", ")}`] : []),
      ],
    };
  }

  if (command === "upload") {
    if (!values.backup)
      throw new UsageError("upload needs --backup=ID (list them with `shipyard backups --env=…`)");
    if (dryRun) throw new UsageError("--dry-run applies to backup and restore, not upload");
    // No dump and no restore check: the backup was verified when it was made.
    const ctx = backupContext(environment, connectionFor(environment, false), progress, false);
    const entry = await uploadById(ctx, values.backup);
    return {
      result: { backup: entry },
      summary: [`backup ${entry.id} uploaded to ${entry.offsite?.url}, read back intact`],
    };
  }

  if (command === "restore") {
    if (!values.backup === !values.file)
      throw new UsageError(
        "restore needs either --backup=ID (list them with `shipyard backups --env=…`) or --file=PATH (a pg_dump custom-format file)",
      );
    const ctx = backupContext(environment, connectionFor(environment, !dryRun), progress, !dryRun);
    checkConfirmation(ctx, values.confirm);
    if (dryRun)
      return {
        plan: values.backup
          ? planRestore(ctx, findBackup(await readCatalog(ctx.directory), values.backup))
          : planImport(ctx, values.file ?? ""),
        summary: [],
      };
    const host = await runnerFor(environment, process.env);
    try {
      const result = await restore({ ...ctx, host }, host, {
        id: values.backup ?? (await importBackup({ ...ctx, host }, values.file ?? "")).id,
        confirm: values.confirm,
        ageIdentityFile: process.env.SHIPYARD_AGE_IDENTITY_FILE,
        who: who(),
        // An imported file was restored into scratch and counted by the import itself.
        justVerified: values.backup === undefined,
      });
      return {
        result,
        summary: [
          `restored ${result.restored.id} into ${result.restored.database}; every table has its recorded row count`,
          `the data from before the restore is in backup ${result.safetyBackup.id}`,
          ...(result.untouchedTables.length
            ? [`tables not in the backup, left as they were: ${result.untouchedTables.join(", ")}`]
            : []),
        ],
      };
    } finally {
      await host.close();
    }
  }

  if (command === "backups") {
    const backups = await readCatalog(path.resolve(environment.backup.directory));
    return {
      result: { backups },
      summary: backups.length
        ? backups.map(
            (b) =>
              `${b.id}  ${b.createdAt}  ${(b.sizeBytes / 1e6).toFixed(2)} MB  ${b.encrypted ? "encrypted  " : ""}${b.offsite ? `off-site ${b.offsite.url}  ` : ""}${b.reason ?? ""}`,
          )
        : ["no verified backups yet"],
    };
  }

  if (command === "releases" || command === "lock" || command === "status") {
    if (command === "lock" && sub !== "status" && sub !== "break")
      throw new UsageError("lock needs a subcommand: status or break");
    if (dryRun) throw new UsageError(`--dry-run applies to backup and restore, not ${command}`);
    const limit = Number(values.limit ?? 10);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be a positive integer (got ${values.limit})`);
    const host = await runnerFor(environment, process.env);
    try {
      if (command === "lock") return await lockCommand(environment, host, sub, progress);
      if (command === "releases") return await releasesCommand(environment, host, limit);
      return await statusCommand(environment, host, limit);
    } finally {
      await host.close();
    }
  }

  throw new Error(`command "${command}" is listed but not handled`);
}

async function releaseCommand(
  command: "deploy" | "rollback",
  environment: Environment,
  values: ReturnType<typeof parse>["values"],
  progress: Progress,
): Promise<Outcome> {
  if (command === "deploy" && !values.image)
    throw new UsageError("deploy needs --image=NAME@sha256:<digest> (the image pinned by its digest)");
  if (command === "deploy") requirePinnedImageOrUsage(values.image as string);
  const conn = values["no-backup"] ? null : connectionFor(environment, !values["dry-run"]);
  const host = await runnerFor(environment, process.env);
  try {
    const request: DeployRequest =
      command === "deploy"
        ? {
            image: values.image as string,
            release: values.release ?? defaultReleaseName(new Date()),
            migrate: true,
          }
        : rollbackRequest(
            parseLedger((await host.run(recentReleases(environment.stateDirectory, 200))).stdout),
            values.to,
          );
    // A deploy ships this repository's configuration; a rollback changes only the image.
    const shipped = command === "deploy" ? await configToShip(environment, configSource()) : null;
    // The release needs the verified backup here; an off-site store that is down is a warning, not a stop.
    let taken: BackupResult | undefined;
    const ctx: DeployContext = {
      environment,
      runner: host,
      progress,
      who: who(),
      ...(shipped ? { config: shipped } : {}),
      ...(conn
        ? {
            backup: async () => {
              taken = await backup(backupContext(environment, conn, progress), {
                reason: `before ${request.release}`,
              });
              return taken.entry.id;
            },
          }
        : {}),
    };
    if (values["dry-run"]) {
      const running = parseContainers((await host.run(listAppContainers(environment))).stdout).filter(
        (c) => c.state === "running",
      );
      const holder = {
        holder: ctx.who,
        purpose: `deploy ${request.release}`,
        since: new Date().toISOString(),
        token: "<random>",
      };
      return { plan: releasePlan(ctx, request, running, holder), summary: [] };
    }
    const result = await withInterrupts({ operation: command, envName: environment.name }, (signal) =>
      deploy({ ...ctx, signal }, request),
    );
    const uploadFailure = taken?.upload?.ok === false ? taken.upload.error : undefined;
    return {
      result: { ...result, ...(taken?.upload ? { backupUpload: taken.upload } : {}) },
      summary: [
        `release ${result.release} serves through nginx at ${environment.publicUrl} (${result.image}@${result.digest})`,
        result.previous ? `previous release: ${result.previous}` : "first release of this environment",
        result.backup
          ? `verified backup before the release: ${result.backup}`
          : "no backup taken (--no-backup)",
        ...(result.stopped.length ? [`stopped ${result.stopped.join(", ")}`] : []),
        ...(result.leftover.length
          ? [`WARNING: could not stop or remove ${result.leftover.join(", ")}; remove them with docker rm -f`]
          : []),
        ...(uploadFailure
          ? [
              `WARNING: the backup's off-site copy failed (${uploadFailure}); ` +
                `retry with: shipyard upload --env=${environment.name} --backup=${result.backup}`,
            ]
          : []),
      ],
    };
  } finally {
    await host.close();
  }
}

function requirePinnedImageOrUsage(image: string): void {
  try {
    requirePinnedImage(image);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const staleAfter = (environment: Environment) => environment.timeouts.lockStaleMinutes;
const releaseLine = (r: ReleaseRecord) =>
  `release ${r.release}  ${r.at}  ${r.result}  ${r.image}@${r.digest}  by ${r.who}`;

async function lockCommand(
  environment: Environment,
  host: Runner,
  sub: string | undefined,
  progress: Progress,
): Promise<Outcome> {
  const holder = await currentHolder(host, environment);
  if (sub === "break") {
    await progress.step("break lock", () => host.run(breakLock(environment.stateDirectory)));
    return {
      result: { broken: holder },
      summary: [
        holder
          ? `removed the lock ${describeHolder(holder, new Date(), staleAfter(environment))}`
          : "there was no lock",
      ],
    };
  }
  return {
    result: { lock: holder },
    summary: [holder ? `lock: ${describeHolder(holder, new Date(), staleAfter(environment))}` : "lock: free"],
  };
}

async function releasesCommand(environment: Environment, host: Runner, limit: number): Promise<Outcome> {
  const releases = parseLedger((await host.run(recentReleases(environment.stateDirectory, limit))).stdout);
  return {
    result: { releases },
    summary: releases.length ? releases.map(releaseLine) : ["no releases recorded"],
  };
}

async function statusCommand(environment: Environment, host: Runner, limit: number): Promise<Outcome> {
  const [holder, releases, backups, health] = await Promise.all([
    currentHolder(host, environment),
    host.run(recentReleases(environment.stateDirectory, limit)).then((r) => parseLedger(r.stdout)),
    readCatalog(path.resolve(environment.backup.directory)).then((b) => b.slice(-limit)),
    checkHealth(new URL(environment.healthPath, environment.publicUrl).toString(), 5_000),
  ]);
  const current = currentRelease(releases);
  return {
    result: { lock: holder, current, health, releases, backups },
    summary: [
      `health: ${health.ok ? "ok" : "FAILING"} ${health.url} ${health.status ?? health.error} (${health.ms} ms)`,
      `current release: ${current ? `${current.release} (${current.image}@${current.digest}, ${current.at})` : "none recorded"}`,
      holder ? `lock: ${describeHolder(holder, new Date(), staleAfter(environment))}` : "lock: free",
      ...(releases.length ? releases.map(releaseLine) : ["no releases recorded"]),
      ...(backups.length
        ? backups.map(
            (b) =>
              `backup ${b.id}  ${b.createdAt}  verified${b.offsite ? `  off-site ${b.offsite.url}` : ""}`,
          )
        : ["no verified backups"]),
    ],
  };
}

function printPlan(plan: PlannedStep[]): void {
  plan.forEach((step, i) => {
    process.stdout.write(`${i + 1}. ${step.step}\n`);
    if (step.argv)
      process.stdout.write(
        `   ${step.argv.map((a) => (/[\s'"$]/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`,
      );
    if (step.note) process.stdout.write(`   ${step.note}\n`);
  });
}

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  let values: ReturnType<typeof parse>["values"] = {
    "dry-run": false,
    json: false,
    help: false,
    "no-backup": false,
  };
  let command = "";
  const progress = new Progress();
  try {
    const parsed = parse(argv);
    values = parsed.values;
    const [first, sub] = parsed.positionals;
    if (values.help || !first) {
      process.stdout.write(`${USAGE}\n`);
      return values.help ? 0 : 2;
    }
    command = first;
    const outcome = await execute(first, sub, values, progress);
    const ms = Math.round(performance.now() - started);
    const { problem } = outcome;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ok: !problem, command, env: values.env, dryRun: values["dry-run"], ms, steps: progress.steps, ...(outcome.plan ? { plan: outcome.plan } : { result: outcome.result }), ...(problem ? { error: problem } : {}) }, null, 2)}\n`,
      );
    } else if (outcome.plan) {
      printPlan(outcome.plan);
    } else {
      for (const line of outcome.summary) process.stdout.write(`${line}\n`);
      if (progress.steps.length)
        process.stdout.write(`done in ${seconds(ms)} (${progress.steps.length} steps)\n`);
      if (problem) process.stderr.write(`shipyard ${command}: ${problem.message}\n`);
    }
    return problem ? 1 : 0;
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof ConfigError;
    const message = (error as Error).message;
    const ms = Math.round(performance.now() - started);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ok: false, command, env: values.env, ms, steps: progress.steps, error: { kind: (error as Error).name, message } }, null, 2)}\n`,
      );
    } else {
      process.stderr.write(`shipyard${command ? ` ${command}` : ""}: ${message}\n`);
      const failed = progress.steps.filter((s) => !s.ok).map((s) => s.step);
      if (progress.steps.length)
        process.stderr.write(
          `failed after ${seconds(ms)}; ${progress.steps.filter((s) => s.ok).length} steps done${failed.length ? `, failed at: ${failed.join(", ")}` : ""}\n`,
        );
    }
    if (error instanceof DeployFailed && error.signal) return SIGNAL_EXIT_CODES[error.signal] ?? 1;
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
