/**
 * A release on Docker Swarm (target.kind: swarm), as its steps: the same lock, ledger, verified backup,
 * shipped configuration, verify and watch window as on one server (release/release.ts), with Swarm doing
 * the switch. compose renders the very compose.yaml on the manager, stackFile makes it Swarm's, and
 * `docker stack deploy` hands it over; Swarm starts each new app task before it stops an old one, waits for
 * its healthcheck and rolls itself back when a task fails. Then the CLI watches what users get through
 * nginx for the watch window, and puts the previous release back with `docker service rollback` when it
 * stops serving. docs/swarm.md tells the whole story.
 */
import { parse } from "yaml";
import { composeVersion } from "../commands/compose.js";
import { configBase, configSnapshot, removeSnapshot } from "../commands/config.js";
import { dockerVersion } from "../commands/docker.js";
import { readJournal } from "../commands/journal.js";
import { appendRelease, parseLedger, type ReleaseRecord, recentReleases } from "../commands/ledger.js";
import { edgeAnswers, reloadNginx, swarmUpstreamConf, testNginx, writeUpstream } from "../commands/nginx.js";
import {
  ownNodeLabel,
  parseUpdateStatus,
  renderCompose,
  serviceImage,
  serviceRollback,
  stackDeploy,
  stackSecrets,
  stackService,
  stackServices,
  stackVolumes,
  swarmState,
  taskErrors,
  type UpdateStatus,
  updateStatus,
} from "../commands/swarm.js";
import type { Environment } from "../config/environments.js";
import { currentRelease } from "../release/decisions.js";
import { type InterruptedRelease, parseJournal, swarmJournalText } from "../release/journal.js";
import {
  type ConfigChange,
  clearJournalStep,
  type DeployContext,
  DeployFailed,
  FIRST_RELEASE_NO_BACKUP,
  interruptedWhy,
  RELEASE_TIMING,
  type ReleaseInput,
  recovering,
  releaseJournal,
  releaseRecord,
  restoreConfigSteps,
  servingChecks,
  shipConfigSteps,
} from "../release/release.js";
import { verifyServing } from "../release/verify.js";
import { watchRelease } from "../release/watch.js";
import type { Runner } from "../runner.js";
import { servedCertificateSteps, siteGet } from "../site.js";
import { effect, Interrupted, later, type Operation, pause, type Step, step } from "../steps.js";
import {
  requireDataNode,
  requireManager,
  rollbackOutcome,
  taskMonitorSeconds,
  updateDeadlineSeconds,
  updateOutcome,
} from "./decisions.js";
import { newestSecrets, secretVariables, withSwarmSecrets } from "./secrets.js";
import { type RenderedCompose, stackFile } from "./stack-file.js";

/** compose.yaml's one-shot service, run by Swarm as a job; a rollback leaves it as it is. */
const MIGRATE_JOB = "migrate";
/** Between two reads of the update's status. */
const STATUS_POLL_SECONDS = 1;

/** What the steps of a Swarm release find out and leave behind. */
export interface SwarmFacts {
  /** A release whose CLI was killed mid-way, found in the journal: undone before this one starts. */
  interrupted: InterruptedRelease | null;
  previous: ReleaseRecord | null;
  servedCertificate: string | null;
  backup: string | null;
  backupSkipped: string | null;
  config: ConfigChange | null;
  /** The stack's services before the release: none, and no volume, is a first release. */
  services: string[];
  volumes: string[];
  /** The app's update status before the deploy: the new one is told from it. */
  before: UpdateStatus | null;
  /** The stack file (its secrets are the swarm's, named in it, not held). */
  stack: Record<string, unknown> | null;
  /** The stack's secrets in the swarm, made by setup: the newest name for each variable. */
  secrets: Record<string, string>;
  /** From `docker stack deploy` on, a failure rolls the app back (unless Swarm already did). */
  deployed: boolean;
  rolledBackBySwarm: boolean;
  /** ms since the epoch when Swarm finished the update: the watch counts nginx's answers from there. */
  settledAt: number;
}

export function startingSwarmFacts(): SwarmFacts {
  return {
    interrupted: null,
    previous: null,
    servedCertificate: null,
    backup: null,
    backupSkipped: null,
    config: null,
    services: [],
    volumes: [],
    before: null,
    stack: null,
    secrets: {},
    deployed: false,
    rolledBackBySwarm: false,
    settledAt: 0,
  };
}

const firstRelease = (f: SwarmFacts) => f.services.length === 0 && f.volumes.length === 0;
const lines = (stdout: string) => stdout.split("\n").filter(Boolean);

export function swarmRelease(ctx: DeployContext, input: ReleaseInput): Operation<SwarmFacts> {
  const { environment: env, runner } = ctx;
  const { request, started } = input;
  if (env.target.kind !== "swarm") throw new Error(`${env.name} is not a swarm environment`);
  const target = env.target;
  const timing = ctx.timing ?? RELEASE_TIMING;
  const stack = env.compose.project;
  const app = stackService(stack, env.compose.appService);
  const monitorSeconds = taskMonitorSeconds(env.watch.seconds);
  const deadlineSeconds = updateDeadlineSeconds(target.replicas, env.timeouts.healthSeconds, monitorSeconds);
  const { checkServing, look } = servingChecks(ctx);
  const record = releaseRecord(ctx, request, started);

  /** Until Swarm has ended the update (or the rollback) `outcome` waits for; its status then. */
  const untilSwarmSettles = async <T extends string>(
    x: { runner: Runner; signal?: AbortSignal },
    outcome: (status: UpdateStatus | null) => T | "waiting",
    what: string,
  ): Promise<{ outcome: T; status: UpdateStatus | null }> => {
    const deadline = Date.now() + deadlineSeconds * 1000;
    for (;;) {
      const status = parseUpdateStatus((await x.runner.run(updateStatus(app))).stdout);
      const now = outcome(status);
      if (now !== "waiting") return { outcome: now, status };
      if (Date.now() > deadline)
        throw new Error(
          `Swarm did not finish ${what} of ${app} within ${deadlineSeconds} s (${status ? `${status.state}: ${status.message}` : "not started"}); see docker service ps ${app}`,
        );
      await pause(STATUS_POLL_SECONDS, x.signal);
    }
  };

  const reloadSteps = (suffix: string): Step<SwarmFacts>[] => [
    step(`nginx -t${suffix}`, testNginx(env, null)),
    step(`reload nginx${suffix}`, reloadNginx(env, null), {
      note: "nginx's task on the data node, found by its Swarm service label",
    }),
  ];

  /**
   * The undo of a release whose CLI was killed (its journal), under this run's lock: its configuration put
   * back, and the app rolled back by Swarm if it still runs that release (Swarm may have rolled it back
   * itself, or never got it), nginx reloaded, the ledger told.
   */
  const recoverySteps = (
    { record: left, left: what }: InterruptedRelease,
    f: SwarmFacts,
  ): Step<SwarmFacts>[] => {
    const steps = restoreConfigSteps<SwarmFacts>(what.config);
    if (what.switched)
      steps.push(
        effect(
          "roll the app back if it runs it",
          async (_, x) => {
            const image = await x.runner.run(serviceImage(app));
            if (image.exitCode !== 0 || !image.stdout.includes(left.digest)) return "it does not run it";
            await x.runner.run(serviceRollback(app));
            const { outcome, status } = await untilSwarmSettles(x, rollbackOutcome, "the rollback");
            if (outcome !== "rolled back")
              throw new Error(`Swarm paused the rollback of ${app}: ${status?.message}`);
            return "rolled back by Swarm";
          },
          { detail: (said) => said },
        ),
      );
    if (f.services.length > 0) steps.push(...reloadSteps(""));
    const why = interruptedWhy(ctx.who);
    steps.push(
      step(
        "ledger",
        appendRelease(env.stateDirectory, { ...left, note: [left.note, why].filter(Boolean).join("; ") }),
      ),
      clearJournalStep(env, left),
    );
    return recovering(left, steps);
  };

  return {
    checks: [
      step("preflight: docker", dockerVersion(), {
        detail: (r) => `engine ${r.stdout.trim()} on ${runner.where}`,
      }),
      step("preflight: swarm manager", swarmState(), {
        keep: (r) => requireManager(r.stdout, runner.where),
        note: "docker stack deploy runs on a manager",
      }),
      step("preflight: data node", ownNodeLabel(target.dataLabel), {
        keep: (r) => requireDataNode(r.stdout, target.dataLabel, runner.where),
        note: `the manager carries ${target.dataLabel}=true: Postgres, Redis and nginx run there, and backups in Postgres's task`,
      }),
      step("preflight: compose", composeVersion(env), {
        detail: (r) => r.stdout.trim().split("\n")[0],
        note: "it renders compose.yaml for the stack",
      }),
    ],
    lock: { environment: env, who: ctx.who, purpose: `deploy ${request.release}` },
    reads: [
      step("read journal", readJournal(env.stateDirectory), {
        keep: (r, f) => {
          f.interrupted = parseJournal(r.stdout);
        },
        note: "a release whose CLI was killed mid-way left it: undone first",
      }),
      ...servedCertificateSteps<SwarmFacts>(env),
      step("find the stack's services", stackServices(stack), {
        keep: (r, f) => {
          f.services = lines(r.stdout);
        },
        note: "with none, and no volume of the stack, this is a first release: no backup (no data yet)",
      }),
      step("find the stack's volumes", stackVolumes(stack), {
        keep: (r, f) => {
          f.volumes = lines(r.stdout);
        },
      }),
      later((f) => (f.interrupted ? recoverySteps(f.interrupted, f) : [])),
      step("read ledger", recentReleases(env.stateDirectory, 200), {
        keep: (r, f) => {
          f.previous = currentRelease(parseLedger(r.stdout));
        },
        note: "the release serving now, which a failure returns to",
      }),
      step("find the stack's secrets", stackSecrets(stack), {
        keep: (r, f) => {
          f.secrets = newestSecrets(r.stdout);
        },
        detail: (r) => `${Object.keys(newestSecrets(r.stdout)).length} variables`,
        note: "labelled shipyard.stack; names and labels only, never a value: setup made them, and a rotated one is the newest",
      }),
      later((f) =>
        f.services.length === 0
          ? []
          : [
              step(
                "read the app's update status",
                { ...updateStatus(app), okExitCodes: [1] },
                {
                  keep: (r, f) => {
                    f.before = r.exitCode === 0 ? parseUpdateStatus(r.stdout) : null;
                  },
                  note: "the update the deploy starts is told from this one",
                },
              ),
            ],
      ),
    ],
    changes: [
      later((f) => {
        if (!ctx.backup) return [];
        if (firstRelease(f))
          return [
            effect<SwarmFacts, string>("backup: skipped", async () => FIRST_RELEASE_NO_BACKUP, {
              detail: (why) => why,
              keep: (why, f) => {
                f.backupSkipped = why;
              },
              note: "no service and no volume of the stack: a first release, with no data to back up",
            }),
          ];
        const takeBackup = ctx.backup;
        return [
          effect<SwarmFacts, string>("backup", takeBackup, {
            detail: (id) => id,
            keep: (id, f) => {
              f.backup = id;
            },
            note: "the verified backup, in Postgres's task on the data node (see `backup --dry-run`)",
          }),
        ];
      }),
      ...(ctx.config
        ? shipConfigSteps<SwarmFacts>(env, runner.where, request.release, ctx.config, input.bundle)
        : []),
      step(
        "upstream for Swarm",
        writeUpstream(env, swarmUpstreamConf(env.compose.appService, env.app.port)),
        { note: "nginx proxies to every running task of the app, resolved by Swarm's DNS as it goes" },
      ),
      step("render the stack", renderCompose(env, request.image, request.release), {
        keep: (r, f) => {
          const shaped = stackFile(parse(r.stdout) as RenderedCompose, {
            app: { service: env.compose.appService, replicas: target.replicas, monitorSeconds },
            jobs: [MIGRATE_JOB],
            dataLabel: target.dataLabel,
            ...(request.migrate ? {} : { leaveOut: [MIGRATE_JOB] }),
          });
          f.stack = withSwarmSecrets(shaped, secretVariables(env.app.secrets), f.secrets, {
            stack,
            setup: `shipyard setup --env=${env.name}`,
          });
        },
        note: `compose config with compose/.env and a placeholder for each secret, made a stack file whose secret variables are the swarm's secrets (NAME_FILE): ${target.replicas} app tasks updated start-first, each watched ${monitorSeconds} s by Swarm${request.migrate ? ", migrate as a job" : "; the migrate job left as it is (a rollback does not migrate)"}`,
      }),
      later((f) => [
        step("stack deploy", stackDeploy(stack, f.stack ?? {}), {
          leaves: (f) => {
            f.deployed = true;
          },
          note: "stdin: the stack file, which names secrets and holds none",
        }),
      ]),
      later((f) =>
        f.services.length === 0
          ? []
          : [
              effect(
                "wait for Swarm's update",
                async (f, x) => {
                  const { outcome, status } = await untilSwarmSettles(
                    x,
                    (s) => updateOutcome(s, f.before),
                    "the update",
                  );
                  f.settledAt = Date.now();
                  if (outcome === "completed") return status;
                  if (outcome === "paused")
                    throw new Error(
                      `Swarm paused the update of ${app}: ${status?.message}; see docker service ps ${app}`,
                    );
                  f.rolledBackBySwarm = true;
                  const why = (await x.runner.run(taskErrors(app))).stdout.trim().split("\n")[0];
                  throw new Error(
                    `Swarm rolled ${app} back: a task of ${request.release} failed${why ? ` (${why})` : ""}`,
                  );
                },
                {
                  shows: updateStatus(app),
                  detail: (status) => status?.message ?? "",
                  note: `one task at a time, started first, healthy, then watched ${monitorSeconds} s; a failing task makes Swarm roll back (at most ${deadlineSeconds} s)`,
                },
              ),
              ...reloadSteps(""),
            ],
      ),
      later((f) =>
        firstRelease(f) || f.services.length === 0
          ? [
              effect(
                "wait until served",
                (f) =>
                  verifyServing(env, request.release, siteGet(f.servedCertificate), deadlineSeconds * 1000),
                {
                  leaves: (f) => {
                    f.settledAt = Date.now();
                  },
                  note: `a first release: the stack starts, migrate runs as a job, the app's tasks get healthy; at most ${deadlineSeconds} s`,
                },
              ),
            ]
          : [],
      ),
      effect("verify through nginx", (f) => checkServing(request.release, f), {
        note: `GET ${new URL(env.healthPath, env.publicUrl)} answers 200 from release ${request.release}`,
      }),
      later((f) =>
        f.previous && env.watch.seconds > 0
          ? [
              effect(
                "watch",
                (f, x) =>
                  watchRelease(env, x.runner, request.release, f.settledAt, {
                    pollSeconds: timing.watchPollSeconds,
                    look: (name) => look(name, f),
                    ...(x.signal ? { signal: x.signal } : {}),
                  }),
                {
                  shows: edgeAnswers(env, env.watch.seconds),
                  detail: (r) =>
                    `${r.seconds} s: ${r.looks} looks through ${env.publicUrl}, ${r.failed} of ${r.proxied} requests answered 5xx`,
                  note: `${env.watch.seconds} s: ${env.healthPath} and /version through ${env.publicUrl} every ${timing.watchPollSeconds} s, and the share of 5xx in nginx's log (at most ${env.watch.maxErrorPercent} %); a failure rolls the app back`,
                },
              ),
            ]
          : [],
      ),
    ],
    after: [
      later((f) => [
        step(
          "ledger",
          appendRelease(env.stateDirectory, {
            ...record,
            durationMs: Date.now() - started,
            ...(f.backupSkipped
              ? { note: [record.note, `no backup: ${f.backupSkipped}`].filter(Boolean).join("; ") }
              : {}),
          }),
          { note: `append {release: ${request.release}, digest, result} to the ledger` },
        ),
      ]),
      later((f) => (f.config ? [step("drop config snapshot", removeSnapshot(f.config.snapshot))] : [])),
    ],
    journal: releaseJournal<SwarmFacts>(env, (f) =>
      swarmJournalText(record, { config: f.config, deployed: f.deployed && !f.rolledBackBySwarm }),
    ),
    undo: (f, cause) => {
      const steps = restoreConfigSteps<SwarmFacts>(f.config);
      if (f.deployed && !f.rolledBackBySwarm && f.previous) {
        steps.push(
          step("roll the app back (Swarm)", serviceRollback(app), {
            note: "Swarm puts back the app's spec before this deploy, one task at a time, started first",
          }),
          effect(
            "wait for Swarm's rollback",
            async (_, x) => {
              const { outcome, status } = await untilSwarmSettles(x, rollbackOutcome, "the rollback");
              if (outcome !== "rolled back")
                throw new Error(`Swarm paused the rollback of ${app}: ${status?.message}`);
            },
            { shows: updateStatus(app) },
          ),
        );
      }
      // nginx loads the configuration put back (no nginx runs yet on a first release).
      if (f.config && f.services.length > 0) steps.push(...reloadSteps(" (configuration put back)"));
      const why = cause instanceof Interrupted ? cause.message : `failed: ${cause.message.split("\n")[0]}`;
      steps.push(
        step(
          "ledger",
          appendRelease(env.stateDirectory, {
            ...record,
            durationMs: Date.now() - started,
            result: "rolled-back",
            note: [record.note, why].filter(Boolean).join("; "),
          }),
        ),
      );
      return steps;
    },
    failed: async (cause, at, undone, f, x) => {
      const said = undone.map((u) =>
        u.error ? `  NOT undone: ${u.name}: ${u.error.message}` : `  undone: ${u.name}`,
      );
      if (f.rolledBackBySwarm) said.unshift(`  Swarm rolled ${app} back to the previous spec itself`);
      const previous = f.previous;
      if (!previous) said.push("  there was no previous release to return to");
      else {
        try {
          await x.progress.step("rollback: verify through nginx", () => checkServing(previous.release, f));
          said.push(`  release ${previous.release} serves, verified through nginx at ${env.publicUrl}`);
        } catch (error) {
          said.push(`  WARNING: ${(error as Error).message}`);
        }
      }
      const what =
        cause instanceof Interrupted
          ? `deploy of ${request.release} was ${cause.message}${at ? ` (at "${at}")` : ""}; it was undone`
          : `deploy of ${request.release} failed at "${at ?? "setup"}": ${cause.message}`;
      return new DeployFailed(
        `${what}\n${said.join("\n")}`,
        cause instanceof Interrupted ? cause.signalName : undefined,
      );
    },
  };
}

/** The steps of a Swarm release that --dry-run prints, with what only the manager can tell as placeholders. */
export function swarmPlanFacts(env: Environment, config: boolean, release: string): SwarmFacts {
  return {
    ...startingSwarmFacts(),
    services: ["<the stack's services, read on the manager>"],
    volumes: ["<read on the manager>"],
    previous: null,
    stack: { services: "<rendered on the manager>" },
    config: config ? { base: configBase(env), snapshot: configSnapshot(env, release), added: [] } : null,
  };
}
