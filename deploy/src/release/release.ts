/**
 * The zero-downtime release as its steps: what `deploy` and `rollback` run, and what their --dry-run
 * prints (steps.ts runs or prints the one list). The order follows nginx/README.md: start beside,
 * healthy, switch, reload, verify, stop old. A failure before the release serves is undone by
 * `rollbackSteps`, built from what the steps left behind.
 */
import { composeVersion, startBeside, startStack } from "../commands/compose.js";
import {
  addedFiles,
  type ConfigShipment,
  configBase,
  configSnapshot,
  listArchive,
  removeConfigFiles,
  removeSnapshot,
  restoreConfig,
  shipCommands,
} from "../commands/config.js";
import {
  containerHealth,
  containerHealthcheck,
  diskFree,
  dockerVersion,
  listAppContainers,
  listProjectVolumes,
  migrateIn,
  NOT_READY,
  probeReady,
  pullImage,
  removeContainer,
  removeContainerIfPresent,
  stopContainer,
  stopContainerIfPresent,
} from "../commands/docker.js";
import { clearJournal, readJournal, writeJournal } from "../commands/journal.js";
import { appendRelease, parseLedger, type ReleaseRecord, recentReleases } from "../commands/ledger.js";
import type { LockHolder } from "../commands/lock.js";
import {
  drainNginx,
  edgeAnswers,
  ensureNginx,
  findNginx,
  readUpstream,
  reloadNginx,
  retiredWorkers,
  STILL_DRAINING,
  testNginx,
  upstreamConf,
  writeUpstream,
} from "../commands/nginx.js";
import type { Environment } from "../config/environments.js";
import type { PlannedStep, Progress } from "../progress.js";
import type { Runner } from "../runner.js";
import { servedCertificateSteps, siteGet } from "../site.js";
import {
  effect,
  Interrupted,
  later,
  type Operation,
  pause,
  planOperation,
  type Step,
  step,
} from "../steps.js";
import { swarmPlanFacts, swarmRelease } from "../swarm/release.js";
import {
  type AppContainer,
  currentRelease,
  healthcheckCommand,
  holdsNoData,
  MIN_FREE_BYTES,
  newContainer,
  notReadyReason,
  parseContainers,
  parseFreeBytes,
  splitPinned,
} from "./decisions.js";
import { type InterruptedRelease, journalText, parseJournal, type UndoFacts } from "./journal.js";
import { verifyServing } from "./verify.js";
import { lookThroughPublicUrl, watchRelease } from "./watch.js";

/** The release's waits, named once: the run waits them and --dry-run prints them. */
export const RELEASE_TIMING = {
  /** `docker stop` grace for an old container, which finishes the requests it holds on SIGTERM. */
  stopGraceSeconds: 15,
  /** For the failed release's own container when it is undone: it serves nothing worth waiting for. */
  undoStopGraceSeconds: 5,
  /** At most this long for nginx's retired workers to finish the requests they hold; usually far less. */
  drainMaxSeconds: 10,
  /** How long one readiness probe inside the new container asks before the deploy looks at its state. */
  readyProbeSeconds: 5,
  /** After a probe that could not run (the container restarting), before the next. */
  healthPollSeconds: 1,
  /** Between two looks through the public URL (and at nginx's log) in the watch window. */
  watchPollSeconds: 2,
};
export type ReleaseTiming = typeof RELEASE_TIMING;

/** What the checks through publicUrl need of a release's facts: the certificate nginx serves. */
export interface ServedFacts {
  servedCertificate: string | null;
}

export interface DeployContext {
  environment: Environment;
  runner: Runner;
  progress: Progress;
  who: string;
  /** The verified backup taken under the lock before migrations; absent when the operator chose none. */
  backup?: () => Promise<string>;
  /** The compose and nginx configuration the release ships (configToShip); absent: the host's stays. */
  config?: ConfigShipment;
  /** Runs what the release does on this machine (packing the configuration); default: a local runner. */
  local?: Runner;
  /** Checks from outside that `release` serves; default: verifyServing through nginx at publicUrl. */
  checkServing?: (release: string, facts: ServedFacts) => Promise<unknown>;
  /** One look in the watch window: undefined when `release` serves; default: lookThroughPublicUrl. */
  look?: (release: string, facts: ServedFacts) => Promise<string | undefined>;
  timing?: ReleaseTiming;
  /** Aborted by SIGINT/SIGTERM: the release stops where it is and is undone. */
  signal?: AbortSignal;
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

/** A deploy that failed; its message says what happened, what was undone and what serves now. */
export class DeployFailed extends Error {
  override name = "DeployFailed";
  constructor(
    message: string,
    /** The signal that interrupted the release, when one did (the CLI exits 130 or 143 for it). */
    readonly signal?: string,
  ) {
    super(message);
  }
}

/** What a release did to the host's configuration, so a rollback can put it back. */
export interface ConfigChange {
  base: string;
  snapshot: string;
  /** Files the release added, which the snapshot cannot bring back: removed instead. */
  added: string[];
}

/** What the steps of a release find out and leave behind, in the order they do. */
export interface ReleaseFacts {
  /** A release whose CLI was killed mid-way, found in the journal: undone before this one starts. */
  interrupted: InterruptedRelease | null;
  /** The release that served before (from the ledger): what a failure returns to. */
  previous: ReleaseRecord | null;
  /** The certificate the host's nginx serves (PEM): the checks through publicUrl trust it (site.ts). */
  servedCertificate: string | null;
  backup: string | null;
  /** Why no backup was taken though one was asked for (a first release: no data yet); the ledger says so. */
  backupSkipped: string | null;
  /** What shipping the configuration replaced; set once the snapshot is known, so the undo puts it back. */
  config: ConfigChange | null;
  previousUpstream: string;
  /** Every app container before the release starts its own, running or not. */
  before: AppContainer[];
  /** The project's volumes before the release: with no app container either, there is no data yet. */
  volumes: string[];
  /** The release's migrations ran: the undo cannot take them back, and says so. */
  migrated: boolean;
  /** The container the release started; the undo stops and removes it. */
  fresh: AppContainer | null;
  /** The running nginx container's id, found once before the switch: each nginx action is a `docker exec` into it. */
  nginx: string | null;
  /** nginx workers the reloads retired (their PIDs): the drain waits until they have exited. */
  retired: string[];
  /** From the switch on, the undo points nginx back at previousUpstream. */
  switched: boolean;
  /** ms since the epoch when the switch began: the watch window counts nginx's answers from there. */
  switchedAt: number;
  /** The previous release's containers, nginx's backup in the watch window (none: no window). */
  backups: string[];
  /** The app containers the release replaces, found once it serves. */
  old: AppContainer[];
  stopped: string[];
  /** Old containers that could not be stopped or removed. */
  leftover: string[];
}

export function startingFacts(): ReleaseFacts {
  return {
    interrupted: null,
    previous: null,
    servedCertificate: null,
    backup: null,
    backupSkipped: null,
    config: null,
    previousUpstream: "",
    before: [],
    volumes: [],
    migrated: false,
    fresh: null,
    nginx: null,
    retired: [],
    switched: false,
    switchedAt: 0,
    backups: [],
    old: [],
    stopped: [],
    leftover: [],
  };
}

/** What a release ships and when it began; `bundle` is where its configuration is packed. */
export interface ReleaseInput {
  request: DeployRequest;
  bundle: string;
  /** ms since the epoch: the ledger's `at`, and the start of its duration. */
  started: number;
}

/** Why a first release takes no backup, in its progress line, its summary and the ledger. */
export const FIRST_RELEASE_NO_BACKUP = "first release, no data yet";

const ANY_EXIT = Array.from({ length: 255 }, (_, i) => i + 1);
const isRunning = (c: AppContainer) => c.state === "running";
const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1);

/**
 * How a release checks what users get, on one server or a swarm: the context's own checks, or through
 * nginx at publicUrl, trusting the certificate the host's nginx serves.
 */
export function servingChecks(ctx: DeployContext) {
  const env = ctx.environment;
  return {
    checkServing:
      ctx.checkServing ??
      ((name: string, f: ServedFacts) => verifyServing(env, name, siteGet(f.servedCertificate))),
    look:
      ctx.look ??
      ((name: string, f: ServedFacts) => lookThroughPublicUrl(env, name, siteGet(f.servedCertificate))),
  };
}

/** The ledger's record of the release, as it starts ("succeeded" unless the undo records otherwise). */
export function releaseRecord(ctx: DeployContext, request: DeployRequest, started: number): ReleaseRecord {
  const { image, digest } = splitPinned(request.image);
  return {
    release: request.release,
    env: ctx.environment.name,
    who: ctx.who,
    at: new Date(started).toISOString(),
    image,
    digest,
    result: "succeeded",
    ...(request.note ? { note: request.note } : {}),
  };
}

/** The release: checks, then under the lock the ledger, the changes (undone on failure) and the cleanup. */
export function release(ctx: DeployContext, input: ReleaseInput): Operation<ReleaseFacts> {
  const { environment: env, runner } = ctx;
  const { request, started } = input;
  const timing = ctx.timing ?? RELEASE_TIMING;
  const { checkServing, look } = servingChecks(ctx);
  const record = releaseRecord(ctx, request, started);
  const takeBackup = ctx.backup;
  const shipment = ctx.config;

  return {
    checks: [
      step("preflight: docker", dockerVersion(), {
        detail: (r) => `engine ${r.stdout.trim()} on ${runner.where}`,
      }),
      step("preflight: compose", composeVersion(env), { detail: (r) => r.stdout.trim().split("\n")[0] }),
      effect(
        "preflight: disk space",
        async (_, x) => {
          const free = parseFreeBytes((await x.runner.run(diskFree(env))).stdout);
          if (free < MIN_FREE_BYTES) {
            throw new Error(
              `only ${gib(free)} GiB free under ${env.compose.directory} on ${x.runner.where}; a release needs ${MIN_FREE_BYTES / 1024 ** 3} GiB (prune old images: docker image prune)`,
            );
          }
          return free;
        },
        { shows: diskFree(env), detail: (free) => `${gib(free)} GiB free` },
      ),
    ],
    lock: { environment: env, who: ctx.who, purpose: `deploy ${request.release}` },
    reads: [
      step("read journal", readJournal(env.stateDirectory), {
        keep: (r, f) => {
          f.interrupted = parseJournal(r.stdout);
        },
        note: "a release whose CLI was killed mid-way left it: undone first",
      }),
      later((f) => (f.interrupted ? recoverySteps(env, f.interrupted, ctx.who, timing) : [])),
      step("read ledger", recentReleases(env.stateDirectory, 200), {
        keep: (r, f) => {
          f.previous = currentRelease(parseLedger(r.stdout));
        },
        note: "the release serving now, which a failure returns to",
      }),
      ...servedCertificateSteps<ReleaseFacts>(env),
      // Read before the backup: a host with neither app containers nor volumes has no data to back up.
      step("find running app containers", listAppContainers(env), {
        keep: (r, f) => {
          f.before = parseContainers(r.stdout);
        },
        note: "with none, and no volume of the project, this is a first release: no backup (no data yet), and compose starts the whole stack instead of migrate and start beside",
      }),
      step("find the project's volumes", listProjectVolumes(env), {
        keep: (r, f) => {
          f.volumes = r.stdout.split("\n").filter(Boolean);
        },
      }),
    ],
    changes: [
      later((f) => {
        if (!takeBackup) return [];
        // No stack has run here (the backup would find no Postgres to dump): nothing to lose, said plainly.
        if (holdsNoData(f.before, f.volumes))
          return [
            effect<ReleaseFacts, string>("backup: skipped", async () => FIRST_RELEASE_NO_BACKUP, {
              detail: (why) => why,
              keep: (why, f) => {
                f.backupSkipped = why;
              },
              note: "no app container and no volume of the project on this host: a first release, with no data to back up",
            }),
          ];
        return [
          effect<ReleaseFacts, string>("backup", takeBackup, {
            detail: (id) => id,
            keep: (id, f) => {
              f.backup = id;
            },
            note: "the verified backup (see `backup --dry-run`)",
          }),
        ];
      }),
      ...(shipment ? shipConfigSteps(env, runner.where, request.release, shipment, input.bundle) : []),
      // docker's own progress, shown as it comes on a terminal (Progress.aside), not counted again here.
      effect("pull", (_, x) => x.runner.run(pullImage(request.image), { line: x.progress.aside }), {
        shows: pullImage(request.image),
      }),
      step("current upstream", readUpstream(env), {
        keep: (r, f) => {
          f.previousUpstream = r.stdout;
        },
      }),
      later((f) => {
        const running = f.before.filter(isRunning);
        // First release: compose starts data services, migrations and the app in depends_on order.
        if (running.length === 0)
          return [
            step("start stack (migrate, app)", startStack(env, request.image, request.release), {
              keep: (_, f) => {
                f.migrated = true;
              },
              note: "first release: compose starts the data services, runs migrate, then the app",
            }),
          ];
        return [
          step("start beside", startBeside(env, request.image, request.release, running.length), {
            note: "not ready until its migrations are applied: its healthcheck checks the schema",
          }),
        ];
      }),
      step("find the new container", listAppContainers(env), {
        keep: (r, f) => {
          f.fresh = newContainer(f.before, parseContainers(r.stdout));
        },
      }),
      later((f) => {
        const fresh = f.fresh as AppContainer;
        if (!request.migrate || f.before.filter(isRunning).length === 0) return [];
        return [
          step<ReleaseFacts>(
            "migrate",
            { ...migrateIn(fresh.id, env.app.migrate), okExitCodes: ANY_EXIT },
            {
              // migrate logs its error on stdout, so a failure carries the end of that log.
              keep: ({ exitCode, stdout }, f) => {
                if (exitCode !== 0) {
                  const tail = stdout.trim().split("\n").slice(-5).join("\n");
                  throw new Error(
                    `the migrations of ${request.release} failed in ${fresh.name} (exit ${exitCode}); the end of its log:\n${tail}`,
                  );
                }
                f.migrated = true;
              },
              note: `in the new container (${fresh.name} here): applies what is pending, nothing else when nothing is`,
            },
          ),
        ];
      }),
      later((f) => {
        const fresh = f.fresh as AppContainer;
        // The release serving now stays as nginx's backup through the watch window (none on a first release).
        const backups = env.watch.seconds > 0 ? f.before.filter(isRunning).map((c) => c.name) : [];
        return [
          effect("wait healthy", (_, x) => waitReady(env, x.runner, fresh, timing, x.signal), {
            shows: probeReady(fresh.id, timing.readyProbeSeconds, ["<its HEALTHCHECK command>"]),
            detail: () => fresh.name,
            note: `until its own healthcheck passes (run in it five times a second, not at Docker's health interval), at most ${env.timeouts.healthSeconds} s`,
          }),
          step("find nginx", findNginx(env), {
            keep: (r, f) => {
              f.nginx = parseContainers(r.stdout).find(isRunning)?.id ?? null;
            },
            note: "its id, for one `docker exec` per nginx action; none running (a first release): compose starts it after the switch",
          }),
          step("switch upstream", writeUpstream(env, upstreamConf(fresh.name, backups, env.app.port)), {
            // A half-written switch is undone too: the previous upstream goes back whatever happened.
            leaves: (f) => {
              f.switched = true;
              f.switchedAt = Date.now();
              f.backups = backups;
            },
            note: `stdin: conf.d/upstream.conf naming the container found above (${fresh.name} here)${backups.length ? `, the previous release's (${backups.join(", ")}) as backup` : ""}`,
          }),
          later((f) =>
            f.nginx
              ? []
              : [
                  step("start nginx if stopped", ensureNginx(env)),
                  step("find nginx (started)", findNginx(env), {
                    keep: (r, f) => {
                      const started = parseContainers(r.stdout).find(isRunning);
                      if (!started) throw new Error("nginx is not running after compose started it");
                      f.nginx = started.id;
                    },
                  }),
                ],
          ),
          later((f) => nginxReload(env, f.nginx, "")),
        ];
      }),
      effect("verify through nginx", (f) => checkServing(request.release, f), {
        note: `GET ${new URL(env.healthPath, env.publicUrl)} answers 200 from release ${request.release}`,
      }),
      later((f) => {
        if (f.backups.length === 0) return [];
        const fresh = f.fresh as AppContainer;
        return [
          effect(
            "watch",
            (f, x) =>
              watchRelease(env, x.runner, request.release, f.switchedAt, {
                pollSeconds: timing.watchPollSeconds,
                look: (name) => look(name, f),
                ...(x.signal ? { signal: x.signal } : {}),
              }),
            {
              shows: edgeAnswers(env, env.watch.seconds),
              detail: (r) =>
                `${r.seconds} s: ${r.looks} looks through ${env.publicUrl}, ${r.failed} of ${r.proxied} requests answered 5xx`,
              note: `${env.watch.seconds} s: ${env.healthPath} and /version through ${env.publicUrl} every ${timing.watchPollSeconds} s, and the share of 5xx in nginx's log (at most ${env.watch.maxErrorPercent} %)`,
            },
          ),
          step("upstream without backup", writeUpstream(env, upstreamConf(fresh.name, [], env.app.port)), {
            note: `stdin: conf.d/upstream.conf naming ${fresh.name} alone`,
          }),
          ...nginxReload(env, f.nginx, " (without backup)"),
        ];
      }),
    ],
    // The new release serves by now, so an old container that will not go away is reported, not rolled back for.
    after: [
      later((f) =>
        f.retired.length
          ? [
              step("drain", drainNginx(env, f.nginx, f.retired, timing.drainMaxSeconds), {
                detail: (r) =>
                  r.exitCode === STILL_DRAINING
                    ? `${r.stdout.trim()} retired nginx workers still busy after ${timing.drainMaxSeconds} s`
                    : "nginx's retired workers are done",
                note: `until the nginx workers the reloads retired have answered what they hold and exited, at most ${timing.drainMaxSeconds} s`,
              }),
            ]
          : [],
      ),
      step("find old containers", listAppContainers(env), {
        keep: (r, f) => {
          f.old = parseContainers(r.stdout).filter((c) => c.id !== f.fresh?.id);
        },
      }),
      later((f) =>
        f.old.flatMap((old) => [
          step(`stop ${old.name}`, stopContainer(old.id, timing.stopGraceSeconds), {
            tolerate: (f) => {
              f.leftover.push(old.name);
            },
          }),
          later((f) =>
            f.leftover.includes(old.name)
              ? []
              : [
                  step(`remove ${old.name}`, removeContainer(old.id), {
                    keep: (_, f) => {
                      f.stopped.push(old.name);
                    },
                    tolerate: (f) => {
                      f.leftover.push(old.name);
                    },
                  }),
                ],
          ),
        ]),
      ),
      later((f) => {
        const note = [
          record.note,
          f.backupSkipped ? `no backup: ${f.backupSkipped}` : undefined,
          f.leftover.length ? `not removed: ${f.leftover.join(", ")}` : undefined,
        ]
          .filter(Boolean)
          .join("; ");
        return [
          step(
            "ledger",
            appendRelease(env.stateDirectory, {
              ...record,
              durationMs: Date.now() - started,
              ...(note ? { note } : {}),
            }),
            { note: `append {release: ${request.release}, digest, result} to the ledger` },
          ),
        ];
      }),
      later((f) => (f.config ? [step("drop config snapshot", removeSnapshot(f.config.snapshot))] : [])),
    ],
    undo: (f, cause) =>
      rollbackSteps(env, f, { ...record, durationMs: Date.now() - started }, timing, {
        why: cause instanceof Interrupted ? cause.message : `failed: ${cause.message.split("\n")[0]}`,
      }),
    journal: releaseJournal<ReleaseFacts>(env, (f) => journalText(record, f)),
    failed: async (cause, at, undone, f, x) => {
      const lines = undone.map((u) =>
        u.error ? `  NOT undone: ${u.name}: ${u.error.message}` : `  undone: ${u.name}`,
      );
      const previous = f.previous;
      if (f.migrated && previous)
        lines.push(
          `  migrations of ${request.release} stay applied; restore the pre-release backup if ${previous.release} cannot run on them`,
        );
      if (!previous) {
        lines.push("  there was no previous release to return to");
      } else {
        try {
          await x.progress.step("rollback: verify through nginx", () => checkServing(previous.release, f));
          lines.push(`  release ${previous.release} serves, verified through nginx at ${env.publicUrl}`);
        } catch (error) {
          lines.push(`  WARNING: ${(error as Error).message}`);
        }
      }
      const what =
        cause instanceof Interrupted
          ? `deploy of ${request.release} was ${cause.message}${at ? ` (at "${at}")` : ""}; it was undone`
          : `deploy of ${request.release} failed at "${at ?? "setup"}": ${cause.message}`;
      return new DeployFailed(
        `${what}\n${lines.join("\n")}`,
        cause instanceof Interrupted ? cause.signalName : undefined,
      );
    },
  };
}

/**
 * Ships the repository's compose and nginx configuration: a snapshot of what the host has first (known to
 * the undo from then on), then the new files in place. nginx loads them at the switch's `nginx -t` and
 * reload; compose at the next command. Setup ships it the same way to a host that has none.
 */
export function shipConfigSteps<F extends { config: ConfigChange | null }>(
  env: Environment,
  where: string,
  release: string,
  shipment: ConfigShipment,
  bundle: string,
): Step<F>[] {
  const c = shipCommands(env, release, shipment, bundle);
  const seed = c.seed;
  return [
    step("pack config", c.pack, {
      on: "local",
      detail: () => `${shipment.files.length} files from ${shipment.source}`,
      note: `${shipment.files.length} files`,
    }),
    step("snapshot config", c.snapshotHost, { note: "what the host has now, put back if the release fails" }),
    step("list config snapshot", listArchive(c.snapshot), {
      keep: (r, f) => {
        f.config = { base: c.base, snapshot: c.snapshot, added: addedFiles(c.kept, r.stdout) };
      },
      note: "files the release adds are the ones the snapshot lacks: a failure removes them",
    }),
    step("upload config", c.unpack, { detail: () => `to ${c.base} on ${where}`, note: "stdin: the bundle" }),
    ...(seed ? [step<F>("seed upstream", seed, { note: "only where the host has none" })] : []),
  ];
}

/** `nginx -t`, then the reload, whose retired workers the drain waits for; `suffix` names the second switch. */
function nginxReload(env: Environment, nginx: string | null, suffix: string): Step<ReleaseFacts>[] {
  return [
    step(`nginx -t${suffix}`, testNginx(env, nginx)),
    step(`reload nginx${suffix}`, reloadNginx(env, nginx), {
      keep: (r, f) => {
        f.retired = [...new Set([...f.retired, ...retiredWorkers(r.stdout)])];
      },
      note: "prints the PIDs of the workers it retires, for the drain",
    }),
  ];
}

/**
 * Until the new container's own healthcheck passes, run in it by probeReady, not at Docker's next health
 * interval; Docker's healthcheck stays what watches it from then on. A container that stopped or
 * restarts will not become ready by waiting, so that ends the wait at once.
 */
async function waitReady(
  env: Environment,
  runner: Runner,
  container: AppContainer,
  timing: ReleaseTiming,
  signal?: AbortSignal,
): Promise<void> {
  const check = healthcheckCommand((await runner.run(containerHealthcheck(container.id))).stdout);
  if (!check)
    throw new Error(
      `${container.name} has no healthcheck: give the app's image a HEALTHCHECK that passes when it can serve (database, cache, schema), so a release knows when to switch`,
    );
  const deadline = Date.now() + env.timeouts.healthSeconds * 1000;
  for (;;) {
    const seconds = Math.min(timing.readyProbeSeconds, Math.max(1, (deadline - Date.now()) / 1000));
    const probe = await runner.run({ ...probeReady(container.id, seconds, check), okExitCodes: ANY_EXIT });
    if (probe.exitCode === 0) return;
    const stopped = notReadyReason((await runner.run(containerHealth(container.id))).stdout);
    if (stopped) throw new Error(`${container.name} will not become healthy: ${stopped}`);
    if (Date.now() > deadline) {
      const answer = (probe.exitCode === NOT_READY ? probe.stdout : probe.stderr)
        .trim()
        .replaceAll("\n", " ");
      throw new Error(
        `${container.name} was not healthy after ${env.timeouts.healthSeconds} s (its healthcheck: ${answer || "no answer"})`,
      );
    }
    // A probe that waited its seconds asks again at once; one that could not run waits a little first.
    if (probe.exitCode === NOT_READY) signal?.throwIfAborted();
    else await pause(timing.healthPollSeconds, signal);
  }
}

/**
 * What undoes a failed release, given what its steps left behind: the old configuration first (so the
 * reload below, or the next one, loads it), then traffic back to the previous upstream (so users stop
 * seeing the failure), then the new container away, then the ledger. Not the reverse of the steps: the
 * reload must find the old configuration in place. Migrations are not undone here: a migration that
 * failed ran in its own transaction and left nothing; one that succeeded is undone by restoring the
 * backup taken before it, which is an operator's decision, and the ledger says so.
 */
export function rollbackSteps(
  env: Environment,
  left: UndoFacts,
  record: ReleaseRecord,
  timing: ReleaseTiming = RELEASE_TIMING,
  options: {
    /** Why the release is undone, for the ledger. */
    why?: string;
    /** The undo of a killed run: what it left may be partly gone already, which is no failure then. */
    ifPresent?: boolean;
  } = {},
): Step<ReleaseFacts>[] {
  const steps: Step<ReleaseFacts>[] = restoreConfigSteps(left.config);
  if (left.switched) {
    steps.push(step("restore upstream", writeUpstream(env, left.previousUpstream)));
    steps.push(step("nginx -t", testNginx(env, left.nginx)));
    steps.push(step("reload nginx", reloadNginx(env, left.nginx)));
  }
  if (left.fresh) {
    const { id, name } = left.fresh;
    const grace = timing.undoStopGraceSeconds;
    steps.push(
      step(`stop ${name}`, options.ifPresent ? stopContainerIfPresent(id, grace) : stopContainer(id, grace)),
      step(`remove ${name}`, options.ifPresent ? removeContainerIfPresent(id) : removeContainer(id)),
    );
  }
  const note =
    [
      options.why,
      left.migrated
        ? "migrations of this release stay applied; restore the pre-release backup if the previous release cannot run on them"
        : undefined,
    ]
      .filter(Boolean)
      .join("; ") || undefined;
  steps.push(
    step(
      "ledger",
      appendRelease(env.stateDirectory, { ...record, result: "rolled-back", ...(note ? { note } : {}) }),
    ),
  );
  return steps;
}

/** The configuration a release shipped, put back from its snapshot: the files it changed and those it added. */
export function restoreConfigSteps<F>(config: ConfigChange | null): Step<F>[] {
  if (!config) return [];
  return [
    step("restore config", restoreConfig(config.base, config.snapshot)),
    ...(config.added.length
      ? [step("remove added config", removeConfigFiles(config.base, config.added))]
      : []),
  ];
}

/**
 * The undo of a release whose CLI was killed, from its journal, under this run's lock: the same steps a
 * failure runs (upstream back, its container away, the ledger), tolerant of what is already gone.
 */
export function recoverySteps(
  env: Environment,
  interrupted: InterruptedRelease,
  who: string,
  timing: ReleaseTiming,
): Step<ReleaseFacts>[] {
  const { record, left } = interrupted;
  const why = interruptedWhy(who);
  return recovering(record, [
    ...rollbackSteps(env, left, record, timing, { why, ifPresent: true }),
    clearJournalStep(env, record),
  ]);
}

/** The ledger's note on a release a killed CLI left, undone by the next run of `who`. */
export const interruptedWhy = (who: string) =>
  `interrupted (its CLI stopped mid-way); undone by the next run, ${who}`;

/** The last step of a recovery: the journal cleared, saying what was interrupted. */
export function clearJournalStep<F>(env: Environment, record: ReleaseRecord): Step<F> {
  return step("clear journal", clearJournal(env.stateDirectory), {
    detail: () =>
      `the ${record.note?.startsWith("rollback") ? "rollback" : "deploy"} of ${record.release} by ${record.who} (started ${record.at}) was interrupted; what it left is undone`,
  });
}

/** A recovery's steps, named after the release they undo. */
export const recovering = <F>(record: ReleaseRecord, steps: Step<F>[]): Step<F>[] =>
  steps.map((s) => ({ ...s, name: `recover ${record.release}: ${s.name}` }));

/** The journal a release keeps on the host while it changes things, as `text` of its facts says. */
export function releaseJournal<F>(env: Environment, text: (facts: F) => string): Operation<F>["journal"] {
  return {
    record: text,
    write: (journal) => writeJournal(env.stateDirectory, journal),
    clear: clearJournal(env.stateDirectory),
  };
}

/** What only the host can tell, in a plan made without reaching it. */
export const READ_ON_THE_HOST = "<read on the host>";

/**
 * What a --dry-run that reaches no server plans with: a host where a release serves already (the usual
 * case; the step that finds out says what a first release does instead), its container a placeholder
 * (named like NEW-CONTAINER, since nginx's upstream file names it).
 */
export const UNREAD_HOST: { containers: readonly AppContainer[]; volumes: readonly string[] } = {
  containers: [
    {
      id: "<app container id, read on the host>",
      name: "CURRENT-CONTAINER",
      image: READ_ON_THE_HOST,
      state: "running",
    },
  ],
  volumes: [READ_ON_THE_HOST],
};

/**
 * What --dry-run prints for `deploy` and `rollback`: the steps a run takes, with what the host has (its
 * app containers, running or not, and the project's volumes, as the run lists them; UNREAD_HOST when the
 * plan does not reach it) and placeholders (`<…>`, NEW-CONTAINER) for what only the run finds out.
 */
export function releasePlan(
  ctx: DeployContext,
  request: DeployRequest,
  { containers, volumes }: { containers: readonly AppContainer[]; volumes: readonly string[] },
  holder: LockHolder,
  started = Date.now(),
): PlannedStep[] {
  const env = ctx.environment;
  if (env.target.kind === "swarm")
    return planOperation(
      swarmRelease(ctx, { request, bundle: "<bundle.tar>", started }),
      swarmPlanFacts(env, ctx.config !== undefined, request.release),
      holder,
    );
  const facts: ReleaseFacts = {
    ...startingFacts(),
    previousUpstream: "<current upstream>",
    before: [...containers],
    volumes: [...volumes],
    fresh: { id: "<new container>", name: "NEW-CONTAINER", image: request.image, state: "running" },
    // A first release finds nginx only once compose has started it.
    nginx: containers.some(isRunning) ? "<nginx container id>" : null,
    retired: ["<PIDs the reloads printed>"],
    old: [...containers],
    backups: env.watch.seconds > 0 ? containers.filter(isRunning).map((c) => c.name) : [],
    config: ctx.config
      ? { base: configBase(env), snapshot: configSnapshot(env, request.release), added: [] }
      : null,
  };
  const op = release(ctx, { request, bundle: "<bundle.tar>", started });
  return planOperation(op, facts, holder);
}
