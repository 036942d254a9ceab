/**
 * The zero-downtime release as a plan, and the decisions it needs, all pure; release/deploy.ts runs
 * it. The order follows nginx/README.md: start beside, healthy, switch, reload, verify, stop old.
 */
import { z } from "zod";
import type { Command } from "../commands/argv.js";
import { type ConfigShipment, removeConfigFiles, restoreConfig, shipCommands } from "../commands/config.js";
import { appendRelease, type ReleaseRecord } from "../commands/ledger.js";
import { acquireLock, type LockHolder, releaseLock } from "../commands/lock.js";
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
import { type PlannedStep, planned } from "../progress.js";

/** A tag can move between deploy and rollback; a digest cannot, so only digests are deployed. */
export function requirePinnedImage(ref: string): string {
  if (!/^[^\s@]+@sha256:[0-9a-f]{64}$/.test(ref)) {
    throw new Error(`--image must be pinned by digest (name@sha256:<64 hex>), got "${ref}"`);
  }
  return ref;
}

const psLine = z.object({ ID: z.string(), Names: z.string(), Image: z.string(), State: z.string() });
export interface AppContainer {
  id: string;
  name: string;
  image: string;
  state: string;
}

export function parseContainers(stdout: string): AppContainer[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const c = psLine.parse(JSON.parse(l));
      return { id: c.ID, name: c.Names, image: c.Image, state: c.State };
    });
}

/** The container `startBeside` made: the one running now that was not there before. */
export function newContainer(before: readonly AppContainer[], after: readonly AppContainer[]): AppContainer {
  const known = new Set(before.map((c) => c.id));
  const fresh = after.filter((c) => !known.has(c.id));
  if (fresh.length !== 1) {
    throw new Error(
      `expected exactly one new app container after starting the release, found ${fresh.length}` +
        (fresh.length ? `: ${fresh.map((c) => c.name).join(", ")}` : ""),
    );
  }
  return fresh[0] as AppContainer;
}

export interface ReleaseRequest {
  image: string;
  release: string;
  holder: LockHolder;
  /** false for a rollback: the older image runs on the schema as it is. */
  migrate?: boolean;
  /** false with --no-backup. */
  backup?: boolean;
  /** The configuration the release ships (absent for a rollback). */
  config?: ConfigShipment;
}

function configPlan(env: Environment, release: string, shipment: ConfigShipment): PlannedStep[] {
  const c = shipCommands(env, release, shipment, "<bundle.tar>");
  return [
    planned("pack config", c.pack, `${shipment.files.length} files`),
    planned("snapshot config", c.snapshotHost, "what the host has now, put back if the release fails"),
    planned("upload config", c.unpack, "stdin: the bundle"),
    ...(c.seed ? [planned("seed upstream", c.seed, "only where the host has none")] : []),
  ];
}

/** What --dry-run prints for `deploy`; `<…>` marks values known only at run time. */
export function releasePlan(
  env: Environment,
  request: ReleaseRequest,
  running: readonly AppContainer[],
): PlannedStep[] {
  const image = requirePinnedImage(request.image);
  const grace = 15;
  return [
    planned("preflight: docker", dockerVersion()),
    planned("preflight: compose", composeVersion(env)),
    planned("preflight: disk space", diskFree(env)),
    planned("lock", acquireLock(env.stateDirectory, request.holder)),
    ...(request.backup === false
      ? []
      : [planned("backup", undefined, "the verified backup (see `backup --dry-run`)")]),
    ...(request.config ? configPlan(env, request.release, request.config) : []),
    planned("pull", pullImage(image)),
    planned("current upstream", readUpstream(env)),
    ...(running.length === 0
      ? [
          planned(
            "start stack (migrate, app)",
            startStack(env, image, request.release),
            "first release: compose starts the data services, runs migrate, then the app",
          ),
        ]
      : [
          ...(request.migrate === false
            ? []
            : [planned("migrate", runMigrations(env, image, request.release))]),
          planned("start beside", startBeside(env, image, request.release, running.length)),
        ]),
    planned("find the new container", listAppContainers(env)),
    planned(
      "wait healthy",
      containerHealth("<new container>"),
      `until "healthy", at most ${env.timeouts.healthSeconds} s`,
    ),
    planned(
      "switch upstream",
      writeUpstream(env, upstreamConf("NEW-CONTAINER")),
      "stdin: conf.d/upstream.conf naming the container found above (NEW-CONTAINER here)",
    ),
    planned("start nginx if stopped", ensureNginx(env)),
    planned("nginx -t", testNginx(env)),
    planned("reload nginx", reloadNginx(env)),
    planned(
      "verify through nginx",
      undefined,
      `GET ${new URL(env.healthPath, env.publicUrl)} answers 200 from release ${request.release}`,
    ),
    planned("drain", undefined, "2 s for nginx's old workers to finish the requests they hold"),
    ...running.flatMap((c) => [
      planned(`stop ${c.name}`, stopContainer(c.id, grace)),
      planned(`remove ${c.name}`, removeContainer(c.id)),
    ]),
    planned("ledger", undefined, `append {release: ${request.release}, digest, result} to the ledger`),
    planned("unlock", releaseLock(env.stateDirectory, request.holder.token)),
  ];
}

export type Reached = "configured" | "migrated" | "started" | "switched";

/** What a release did to the host's configuration, so a rollback can put it back. */
export interface ConfigChange {
  base: string;
  snapshot: string;
  /** Files the release added, which the snapshot cannot bring back: removed instead. */
  added: string[];
}

/**
 * What undoes a failed release, given how far it got: traffic back to the previous upstream first
 * (so users stop seeing the failure), then the new container away. Migrations are not undone here:
 * a migration that failed ran in its own transaction and left nothing; one that succeeded is undone
 * by restoring the backup taken before it, which is an operator's decision, and the ledger says so.
 */
export function rollbackSteps(
  env: Environment,
  reached: ReadonlySet<Reached>,
  state: { previousUpstream: string; fresh: AppContainer | null; config?: ConfigChange | null },
  record: ReleaseRecord,
): { step: string; command: Command }[] {
  const steps: { step: string; command: Command }[] = [];
  // The old configuration first, so the reload below (or the next one) loads it.
  if (reached.has("configured") && state.config) {
    steps.push({ step: "restore config", command: restoreConfig(state.config.base, state.config.snapshot) });
    if (state.config.added.length)
      steps.push({
        step: "remove added config",
        command: removeConfigFiles(state.config.base, state.config.added),
      });
  }
  if (reached.has("switched")) {
    steps.push({ step: "restore upstream", command: writeUpstream(env, state.previousUpstream) });
    steps.push({ step: "nginx -t", command: testNginx(env) });
    steps.push({ step: "reload nginx", command: reloadNginx(env) });
  }
  if (reached.has("started") && state.fresh) {
    steps.push({ step: `stop ${state.fresh.name}`, command: stopContainer(state.fresh.id, 5) });
    steps.push({ step: `remove ${state.fresh.name}`, command: removeContainer(state.fresh.id) });
  }
  const note = reached.has("migrated")
    ? "migrations of this release stay applied; restore the pre-release backup if the previous release cannot run on them"
    : undefined;
  steps.push({
    step: "ledger",
    command: appendRelease(env.stateDirectory, {
      ...record,
      result: "rolled-back",
      ...(note ? { note } : {}),
    }),
  });
  return steps;
}

/** What --dry-run shows of rollbackSteps. */
export function rollbackPlan(
  env: Environment,
  reached: ReadonlySet<Reached>,
  state: { previousUpstream: string; fresh: AppContainer | null; config?: ConfigChange | null },
  record: ReleaseRecord,
): PlannedStep[] {
  return rollbackSteps(env, reached, state, record).map((s) => planned(s.step, s.command));
}
