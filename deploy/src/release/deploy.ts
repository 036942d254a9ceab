/**
 * The zero-downtime release, executed: the steps of plan.ts run one by one through the runner, and
 * any failure undoes what was done (rollbackPlan) and checks through nginx that the previous release
 * still serves. The lock is held throughout and always released (withLock).
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  addedFiles,
  type ConfigShipment,
  configBase,
  configBundle,
  listArchive,
  removeSnapshot,
  shipCommands,
} from "../commands/config.js";
import { appendRelease, parseLedger, type ReleaseRecord, recentReleases } from "../commands/ledger.js";
import {
  composeVersion,
  containerHealth,
  diskFree,
  dockerVersion,
  ensureNginx,
  listAppContainers,
  pullImage,
  readUpstream,
  reloadNginx,
  removeContainer,
  runMigrations,
  startBeside,
  startStack,
  stopContainer,
  testNginx,
  upstreamConf,
  writeUpstream,
} from "../commands/release.js";
import type { Environment } from "../config/environments.js";
import { withLock } from "../lock/lock.js";
import type { Progress } from "../progress.js";
import { localRunner, type Runner } from "../runner.js";
import { currentRelease } from "../status.js";
import { healthVerdict, MIN_FREE_BYTES, parseFreeBytes, splitPinned } from "./decisions.js";
import {
  type AppContainer,
  type ConfigChange,
  newContainer,
  parseContainers,
  type Reached,
  rollbackSteps,
} from "./plan.js";
import { verifyServing } from "./verify.js";

export interface DeployContext {
  environment: Environment;
  runner: Runner;
  progress: Progress;
  who: string;
  /** The verified backup taken under the lock before migrations; absent when the operator chose none. */
  backup?: () => Promise<string>;
  /** The compose and nginx configuration the release ships (configToShip); absent: the host's stays. */
  config?: ConfigShipment;
}

export interface DeployRequest {
  /** name@sha256:… */
  image: string;
  release: string;
  /** false for a rollback: the older image runs on the schema as it is. */
  migrate: boolean;
  /** Recorded in the ledger, e.g. "rollback from v2". */
  note?: string;
}

export interface DeployResult {
  release: string;
  image: string;
  digest: string;
  previous: string | null;
  container: string;
  stopped: string[];
  /** Old containers that could not be stopped or removed (see the progress lines for why). */
  leftover: string[];
  backup: string | null;
}

/** A deploy that failed; `account` says what happened, what was undone and what serves now. */
export class DeployFailed extends Error {
  override name = "DeployFailed";
}

/** Where the target stands before anything changes: fails with the reason when it cannot be deployed to. */
export async function preflight(ctx: DeployContext): Promise<void> {
  const { environment: env, runner, progress } = ctx;
  await progress.step(
    "preflight: docker",
    () => runner.run(dockerVersion()),
    (r) => `engine ${r.stdout.trim()} on ${runner.where}`,
  );
  await progress.step(
    "preflight: compose",
    () => runner.run(composeVersion(env)),
    (r) => r.stdout.trim().split("\n")[0],
  );
  await progress.step(
    "preflight: disk space",
    async () => {
      const free = parseFreeBytes((await runner.run(diskFree(env))).stdout);
      if (free < MIN_FREE_BYTES) {
        throw new Error(
          `only ${(free / 1024 ** 3).toFixed(1)} GiB free under ${env.compose.directory} on ${runner.where}; a release needs ${MIN_FREE_BYTES / 1024 ** 3} GiB (prune old images: docker image prune)`,
        );
      }
      return free;
    },
    (free) => `${(free / 1024 ** 3).toFixed(1)} GiB free`,
  );
}

async function readLedger(ctx: DeployContext): Promise<ReleaseRecord[]> {
  return parseLedger((await ctx.runner.run(recentReleases(ctx.environment.stateDirectory, 200))).stdout);
}

async function appContainers(ctx: DeployContext): Promise<AppContainer[]> {
  return parseContainers((await ctx.runner.run(listAppContainers(ctx.environment))).stdout);
}

async function waitHealthy(ctx: DeployContext, container: AppContainer): Promise<void> {
  const deadline = Date.now() + ctx.environment.timeouts.healthSeconds * 1000;
  for (;;) {
    const verdict = healthVerdict((await ctx.runner.run(containerHealth(container.id))).stdout);
    if (verdict.kind === "healthy") return;
    if (verdict.kind === "failed")
      throw new Error(`${container.name} will not become healthy: ${verdict.reason}`);
    if (Date.now() > deadline) {
      throw new Error(
        `${container.name} was not healthy after ${ctx.environment.timeouts.healthSeconds} s (its healthcheck keeps failing)`,
      );
    }
    await sleep(1_000);
  }
}

async function switchUpstream(ctx: DeployContext, content: string): Promise<void> {
  const { environment: env, runner, progress } = ctx;
  await progress.step("switch upstream", () => runner.run(writeUpstream(env, content)));
  await progress.step("start nginx if stopped", () => runner.run(ensureNginx(env)));
  await progress.step("nginx -t", () => runner.run(testNginx(env)));
  await progress.step("reload nginx", () => runner.run(reloadNginx(env)));
}

const ANY_EXIT = Array.from({ length: 255 }, (_, i) => i + 1);

/** The migrate service logs its error on stdout, so a failure carries the end of that log. */
async function migrate(ctx: DeployContext, request: DeployRequest): Promise<void> {
  const command = runMigrations(ctx.environment, request.image, request.release);
  const { exitCode, stdout } = await ctx.runner.run({ ...command, okExitCodes: ANY_EXIT });
  if (exitCode !== 0) {
    const tail = stdout.trim().split("\n").slice(-5).join("\n");
    throw new Error(
      `the migrate service of ${request.release} exited ${exitCode}; the end of its log:\n${tail}`,
    );
  }
}

/** Runs the release; on failure rolls back and throws DeployFailed with the whole account. */
export async function deploy(ctx: DeployContext, request: DeployRequest): Promise<DeployResult> {
  const { environment: env, runner, progress } = ctx;
  const started = Date.now();
  const { image, digest } = splitPinned(request.image);
  await preflight(ctx);
  return withLock(runner, env, progress, { who: ctx.who, purpose: `deploy ${request.release}` }, async () => {
    const previous = currentRelease(await progress.step("read ledger", () => readLedger(ctx)));
    const record: ReleaseRecord = {
      release: request.release,
      env: env.name,
      who: ctx.who,
      at: new Date(started).toISOString(),
      image,
      digest,
      result: "succeeded",
      ...(request.note ? { note: request.note } : {}),
    };
    const reached = new Set<Reached>();
    const state: { previousUpstream: string; fresh: AppContainer | null; config: ConfigChange | null } = {
      previousUpstream: "",
      fresh: null,
      config: null,
    };
    let backupId: string | null = null;
    try {
      const takeBackup = ctx.backup;
      if (takeBackup) backupId = await progress.step("backup", takeBackup, (id) => id);
      if (ctx.config)
        await shipConfig(ctx, ctx.config, request.release, (change) => {
          state.config = change;
          reached.add("configured");
        });
      await progress.step("pull", () => runner.run(pullImage(request.image)));
      state.previousUpstream = (
        await progress.step("current upstream", () => runner.run(readUpstream(env)))
      ).stdout;
      const before = await progress.step("find running app containers", () => appContainers(ctx));
      const running = before.filter((c) => c.state === "running");
      if (running.length === 0) {
        // First release: compose starts data services, migrations and the app in depends_on order.
        reached.add("started");
        await progress.step("start stack (migrate, app)", () =>
          runner.run(startStack(env, request.image, request.release)),
        );
        reached.add("migrated");
      } else {
        if (request.migrate) {
          await progress.step("migrate", () => migrate(ctx, request));
          reached.add("migrated");
        }
        reached.add("started");
        await progress.step("start beside", () =>
          runner.run(startBeside(env, request.image, request.release, running.length)),
        );
      }
      const fresh = newContainer(before, await appContainers(ctx));
      state.fresh = fresh;
      await progress.step(
        "wait healthy",
        () => waitHealthy(ctx, fresh),
        () => fresh.name,
      );
      reached.add("switched");
      await switchUpstream(ctx, upstreamConf(fresh.name));
      await progress.step("verify through nginx", () => verifyServing(env, request.release));
    } catch (error) {
      const cause = error as Error;
      const failedStep = progress.steps.findLast((s) => !s.ok)?.step ?? "setup";
      const undone = await undo(
        ctx,
        reached,
        state,
        { ...record, durationMs: Date.now() - started },
        previous,
      );
      throw new DeployFailed(
        `deploy of ${request.release} failed at "${failedStep}": ${cause.message}\n${undone}`,
      );
    }
    // The new release serves; old nginx workers finish the requests they hold before the old app stops.
    await progress.step("drain", () => sleep(2_000));
    const stopped: string[] = [];
    const running = (await appContainers(ctx)).filter((c) => c.id !== state.fresh?.id);
    // The new release serves by now, so an old container that will not go away is reported, not rolled back for.
    const leftover: string[] = [];
    for (const old of running) {
      try {
        await progress.step(`stop ${old.name}`, () => runner.run(stopContainer(old.id, 15)));
        await progress.step(`remove ${old.name}`, () => runner.run(removeContainer(old.id)));
        stopped.push(old.name);
      } catch {
        leftover.push(old.name);
      }
    }
    const note = [record.note, leftover.length ? `not removed: ${leftover.join(", ")}` : undefined]
      .filter(Boolean)
      .join("; ");
    await progress.step("ledger", () =>
      runner.run(
        appendRelease(env.stateDirectory, {
          ...record,
          durationMs: Date.now() - started,
          ...(note ? { note } : {}),
        }),
      ),
    );
    const shipped = state.config;
    if (shipped)
      await progress.step("drop config snapshot", () => runner.run(removeSnapshot(shipped.snapshot)));
    return {
      release: request.release,
      image,
      digest,
      previous: previous?.release ?? null,
      container: state.fresh?.name ?? "",
      stopped,
      leftover,
      backup: backupId,
    };
  });
}

/** Repository files under compose/ and nginx/, relative and `/`-separated. */
async function repositoryFiles(source: string): Promise<string[]> {
  const lists = await Promise.all(
    ["compose", "nginx"].map(async (dir) =>
      (await readdir(path.join(source, dir), { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) =>
          path.relative(source, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"),
        ),
    ),
  );
  return lists.flat();
}

/** What a deploy ships from `source`; null where the host's configuration is that very checkout (local). */
export async function configToShip(env: Environment, source: string): Promise<ConfigShipment | null> {
  const base = configBase(env);
  if (env.target.kind === "local" && path.resolve(base) === path.resolve(source)) return null;
  const files = configBundle(await repositoryFiles(source));
  if (!files.includes("compose/compose.yaml"))
    throw new Error(`${source} has no compose/compose.yaml: not a configuration to ship`);
  return { source, files };
}

/**
 * Ships the repository's compose and nginx configuration to the host: a snapshot of what the host has
 * first (reported through `taken`, so a failure from then on is rolled back), then the new files in place.
 * nginx loads them at the switch's `nginx -t` and reload; compose at the next command.
 */
export async function shipConfig(
  ctx: DeployContext,
  shipment: ConfigShipment,
  release: string,
  taken: (change: ConfigChange) => void,
): Promise<void> {
  const { environment: env, runner, progress } = ctx;
  const dir = await mkdtemp(path.join(os.tmpdir(), "shipyard-config-"));
  const c = shipCommands(env, release, shipment, path.join(dir, "bundle.tar"));
  try {
    await progress.step(
      "pack config",
      () => localRunner(env.timeouts.commandSeconds).run(c.pack),
      () => `${shipment.files.length} files from ${shipment.source}`,
    );
    await progress.step("snapshot config", () => runner.run(c.snapshotHost));
    const listing = (await runner.run(listArchive(c.snapshot))).stdout;
    taken({ base: c.base, snapshot: c.snapshot, added: addedFiles(c.kept, listing) });
    await progress.step(
      "upload config",
      () => runner.run(c.unpack),
      () => `to ${c.base} on ${runner.where}`,
    );
    const seed = c.seed;
    if (seed) await progress.step("seed upstream", () => runner.run(seed));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the rollback plan, then checks what serves; returns the account for the error message. */
async function undo(
  ctx: DeployContext,
  reached: ReadonlySet<Reached>,
  state: { previousUpstream: string; fresh: AppContainer | null; config: ConfigChange | null },
  record: ReleaseRecord,
  previous: ReleaseRecord | null,
): Promise<string> {
  const { environment: env, runner, progress } = ctx;
  const lines: string[] = [];
  for (const { step, command } of rollbackSteps(env, reached, state, record)) {
    try {
      await progress.step(`rollback: ${step}`, () => runner.run(command));
      lines.push(`  undone: ${step}`);
    } catch (error) {
      lines.push(`  NOT undone: ${step}: ${(error as Error).message}`);
    }
  }
  if (reached.has("migrated") && previous)
    lines.push(
      `  migrations of ${record.release} stay applied; restore the pre-release backup if ${previous.release} cannot run on them`,
    );
  if (!previous) {
    lines.push("  there was no previous release to return to");
    return lines.join("\n");
  }
  try {
    await progress.step("rollback: verify through nginx", () => verifyServing(env, previous.release));
    lines.push(`  release ${previous.release} serves, verified through nginx at ${env.publicUrl}`);
  } catch (error) {
    lines.push(`  WARNING: ${(error as Error).message}`);
  }
  return lines.join("\n");
}
