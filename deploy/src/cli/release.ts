/** deploy and rollback: the zero-downtime release (release/release.ts), its --dry-run plan and its summary. */
import { type BackupResult, backup } from "../backup/backup.js";
import { listAppContainers, listProjectVolumes } from "../commands/docker.js";
import { parseLedger, recentReleases } from "../commands/ledger.js";
import { withInterrupts } from "../interrupts.js";
import { UsageError } from "../mistakes.js";
import {
  defaultReleaseName,
  parseContainers,
  requirePinnedImage,
  requireReleaseName,
  rollbackRequest,
} from "../release/decisions.js";
import { configToShip, type DeployResult, deploy } from "../release/deploy.js";
import { type DeployContext, type DeployRequest, releasePlan, UNREAD_HOST } from "../release/release.js";
import { type Runner, unreachedRunner } from "../runner.js";
import type { CliCommand, Outcome } from "./command.js";
import { configSource } from "./config-source.js";
import type { CliContext } from "./context.js";
import { backupContext, connectionFor } from "./database.js";

export const deployCommand: CliCommand = {
  name: "deploy",
  usage: [
    [
      "deploy --image=NAME@sha256:…",
      "zero-downtime release (lock, backup, pull, migrate, start beside, healthy, switch nginx, verify, stop old); rolls back on failure",
    ],
  ],
  options: ["image", "release", "no-backup", "dry-run", "json"],
  examples: [
    "shipyard deploy --env=staging --image=registry.example.com/shop/app@sha256:<64 hex> --dry-run",
    "shipyard deploy --env=prod --image=registry.example.com/shop/app@sha256:<64 hex> --release=2026-11-23.1",
  ],
  async run(ctx) {
    const { image } = ctx.options;
    if (!image)
      throw new UsageError("deploy needs --image=NAME@sha256:<digest> (the image pinned by its digest)");
    asUsage(() => requirePinnedImage(image));
    const release = ctx.options.release;
    if (release !== undefined) asUsage(() => requireReleaseName(release));
    const wanted: DeployRequest = {
      image,
      release: ctx.options.release ?? defaultReleaseName(new Date()),
      migrate: true,
    };
    // A deploy ships this repository's configuration; a rollback changes only the image.
    return releaseCommand(ctx, { shipsConfig: true }, { run: async () => wanted, planned: wanted });
  },
};

export const rollbackCommand: CliCommand = {
  name: "rollback",
  usage: [
    [
      "rollback [--to=RELEASE]",
      "bring back the previous succeeded release (or the one named) the same zero-downtime way",
    ],
  ],
  options: ["to", "no-backup", "dry-run", "json"],
  examples: ["shipyard rollback --env=prod", "shipyard rollback --env=prod --to=2026-11-20.2"],
  run: (ctx) =>
    // Which release and image come back is in the host's ledger: its --dry-run reads that, and no more.
    releaseCommand(
      ctx,
      { shipsConfig: false },
      {
        run: async (host) =>
          rollbackRequest(
            parseLedger((await host.run(recentReleases(ctx.environment.stateDirectory, 200))).stdout),
            ctx.options.to,
          ),
      },
    ),
};

/** A check of what the operator typed: its failure is a usage error (exit 2). */
function asUsage(check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * What a release brings: `run` gives it from the host (a rollback reads the ledger); `planned`, known
 * without the host, lets a --dry-run reach no server (a deploy's); without it the plan asks `run`.
 */
interface Wanted {
  run: (host: Runner) => Promise<DeployRequest>;
  planned?: DeployRequest;
}

/** A deploy and a rollback differ only in what they release, which a rollback reads from the ledger. */
async function releaseCommand(
  ctx: CliContext,
  { shipsConfig }: { shipsConfig: boolean },
  request: Wanted,
): Promise<Outcome> {
  const { environment, options, progress } = ctx;
  const dryRun = options["dry-run"];
  const conn = options["no-backup"] ? null : connectionFor(environment, !dryRun);
  const host = dryRun && request.planned ? unreachedRunner(environment) : await ctx.host();
  const wanted = (dryRun && request.planned) || (await request.run(host));
  const shipped = shipsConfig ? await configToShip(environment, configSource()) : null;
  // The release needs the verified backup here; an off-site store that is down is a warning, not a stop.
  let taken: BackupResult | undefined;
  const release: DeployContext = {
    environment,
    runner: host,
    local: ctx.local,
    progress,
    who: ctx.who,
    ...(shipped ? { config: shipped } : {}),
    ...(conn
      ? {
          backup: async () => {
            // On the release's own connection to the host: no second one opened in the middle of a deploy.
            taken = await backup(backupContext(ctx, conn, { host }), { reason: `before ${wanted.release}` });
            return taken.entry.id;
          },
        }
      : {}),
  };
  if (dryRun) {
    // A rollback's plan has the host open for its ledger: it lists what the release will, as the release
    // does (no app container, running or not, and no volume is a first release: no backup).
    const found = request.planned
      ? UNREAD_HOST
      : {
          containers: parseContainers((await host.run(listAppContainers(environment))).stdout),
          volumes: (await host.run(listProjectVolumes(environment))).stdout.split("\n").filter(Boolean),
        };
    const holder = {
      holder: ctx.who,
      purpose: `deploy ${wanted.release}`,
      since: new Date().toISOString(),
      token: "<random>",
    };
    return { plan: releasePlan(release, wanted, found, holder), summary: [] };
  }
  const result = await withInterrupts(
    { operation: shipsConfig ? "deploy" : "rollback", envName: environment.name },
    (signal) => deploy({ ...release, signal }, wanted),
  );
  return {
    result: { ...result, ...(taken?.upload ? { backupUpload: taken.upload } : {}) },
    summary: releaseSummary(ctx, result, taken),
  };
}

function releaseSummary(ctx: CliContext, result: DeployResult, taken: BackupResult | undefined): string[] {
  const { environment } = ctx;
  const uploadFailure = taken?.upload?.ok === false ? taken.upload.error : undefined;
  return [
    `release ${result.release} serves through nginx at ${environment.publicUrl} (${result.image}@${result.digest})`,
    result.previous ? `previous release: ${result.previous}` : "first release of this environment",
    result.backup
      ? `verified backup before the release: ${result.backup}`
      : result.backupSkipped
        ? `no backup: ${result.backupSkipped}`
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
  ];
}
