/**
 * The release, executed: release.ts says what it does, step by step; this runs those steps on the
 * environment's host (steps.ts), under the lock, undoing them if one fails before the release serves.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { type ConfigShipment, configBase, configBundle } from "../commands/config.js";
import { stackService } from "../commands/swarm.js";
import type { Environment } from "../config/environments.js";
import { ownedTempDir } from "../owned-temp-dir.js";
import { localRunner } from "../runner.js";
import { type Exec, runOperation, runSteps } from "../steps.js";
import { startingSwarmFacts, swarmRelease } from "../swarm/release.js";
import { splitPinned } from "./decisions.js";
import {
  type ConfigChange,
  type DeployContext,
  type DeployRequest,
  release,
  shipConfigSteps,
  startingFacts,
} from "./release.js";

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
  /** Why no backup was taken though one was asked for: a first release, with no data yet. */
  backupSkipped?: string;
}

function exec(ctx: DeployContext): Exec {
  return {
    runner: ctx.runner,
    local: ctx.local ?? localRunner(ctx.environment.timeouts.commandSeconds),
    progress: ctx.progress,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
}

/** Where the configuration bundle is packed on this machine while the release (or setup) runs, then removed. */
export async function withBundle<T>(work: (bundle: string) => Promise<T>): Promise<T> {
  const dir = await ownedTempDir("shipyard-config-");
  try {
    return await work(path.join(dir.path, "bundle.tar"));
  } finally {
    dir.remove();
  }
}

/** Runs the release; on failure rolls back and throws DeployFailed with the whole account. */
export async function deploy(ctx: DeployContext, request: DeployRequest): Promise<DeployResult> {
  if (ctx.environment.target.kind === "swarm") return deployOnSwarm(ctx, request);
  const started = Date.now();
  const facts = startingFacts();
  const run = (bundle: string) => runOperation(release(ctx, { request, bundle, started }), facts, exec(ctx));
  await (ctx.config ? withBundle(run) : run("<no configuration shipped>"));
  const { image, digest } = splitPinned(request.image);
  return {
    release: request.release,
    image,
    digest,
    previous: facts.previous?.release ?? null,
    container: facts.fresh?.name ?? "",
    stopped: facts.stopped,
    leftover: facts.leftover,
    backup: facts.backup,
    ...(facts.backupSkipped ? { backupSkipped: facts.backupSkipped } : {}),
  };
}

/** The same on a swarm: Swarm replaces the app's tasks, so there is no container of its own to name. */
async function deployOnSwarm(ctx: DeployContext, request: DeployRequest): Promise<DeployResult> {
  const started = Date.now();
  const facts = startingSwarmFacts();
  const run = (bundle: string) =>
    runOperation(swarmRelease(ctx, { request, bundle, started }), facts, exec(ctx));
  await (ctx.config ? withBundle(run) : run("<no configuration shipped>"));
  const { image, digest } = splitPinned(request.image);
  return {
    release: request.release,
    image,
    digest,
    previous: facts.previous?.release ?? null,
    container: stackService(ctx.environment.compose.project, ctx.environment.compose.appService),
    stopped: [],
    leftover: [],
    backup: facts.backup,
    ...(facts.backupSkipped ? { backupSkipped: facts.backupSkipped } : {}),
  };
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

/** Only the configuration steps of a release: what they changed, for the undo (rollbackSteps) to put back. */
export async function shipConfig(
  ctx: DeployContext,
  shipment: ConfigShipment,
  releaseName: string,
): Promise<ConfigChange | null> {
  const facts = startingFacts();
  await withBundle((bundle) =>
    runSteps(
      shipConfigSteps(ctx.environment, ctx.runner.where, releaseName, shipment, bundle),
      facts,
      exec(ctx),
    ),
  );
  return facts.config;
}
