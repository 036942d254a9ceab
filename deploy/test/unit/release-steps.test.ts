/**
 * The release run against FakeRunner, a stand-in host that runs nothing and records every command: the
 * exact commands a release executes, in order; that --dry-run prints the steps a run takes; and, for a
 * failure at each step, what is undone, what the ledger records and what the operator reads.
 */
import { describe, expect, it } from "vitest";
import type { Command } from "../../src/commands/argv.js";
import { composeVersion, startBeside, startStack } from "../../src/commands/compose.js";
import {
  listArchive,
  packBundle,
  removeConfigFiles,
  removeSnapshot,
  restoreConfig,
  snapshotConfig,
  unpackBundle,
} from "../../src/commands/config.js";
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
} from "../../src/commands/docker.js";
import { clearJournal, readJournal, writeJournal } from "../../src/commands/journal.js";
import { appendRelease, recentReleases } from "../../src/commands/ledger.js";
import { acquireLock, lockHolderSchema, releaseLock } from "../../src/commands/lock.js";
import {
  drainNginx,
  ensureNginx,
  findNginx,
  readUpstream,
  reloadNginx,
  testNginx,
  upstreamConf,
  writeUpstream,
} from "../../src/commands/nginx.js";
import { Progress } from "../../src/progress.js";
import type { AppContainer } from "../../src/release/decisions.js";
import { deploy } from "../../src/release/deploy.js";
import { parseJournal } from "../../src/release/journal.js";
import { type DeployContext, RELEASE_TIMING, releasePlan } from "../../src/release/release.js";
import { servedCertificateCommands } from "../../src/site.js";
import { Interrupted } from "../../src/steps.js";
import { localEnvironment } from "../support/environment.js";
import { type Answer, FakeRunner } from "../support/fake-runner.js";
import { releaseRecord } from "../support/release-record.js";

// A window of a tenth of a second, two looks (the schema's whole seconds would make each test wait).
const env = localEnvironment("/srv/x", { watch: { seconds: 0.1, maxErrorPercent: 1, minRequests: 20 } });
const state = env.stateDirectory;
const digest = `sha256:${"c".repeat(64)}`;
const image = `registry.example.com/shop/app@${digest}`;
const OLD_UPSTREAM = upstreamConf("shipyard-app-1");
const blue: AppContainer = { id: "aaa", name: "shipyard-app-1", image: "app@sha256:old", state: "running" };
const green: AppContainer = { id: "bbb", name: "shipyard-app-2", image, state: "running" };
const nginx: AppContainer = { id: "ngx", name: "shipyard-nginx-1", image: "nginx:stable", state: "running" };
/** The new container's healthcheck as `docker inspect` prints it: the probe runs it. */
const HEALTHCHECK = '{"Test":["CMD","node","-e","check()"],"Interval":5000000000}\n';
const CHECK = ["node", "-e", "check()"];
/** The workers nginx runs before a reload: what each reload prints and the drain waits for. */
const WORKERS = "7\n8\n";
const shipment = { source: "/repo", files: ["compose/compose.yaml", "nginx/nginx.conf"] };
const snapshot = `${state}/config-before-r2.tar`;
const line = (c: Command) => c.argv.join(" ");
const VOLUME = "shipyard_postgres-data";
const CERTIFICATE = servedCertificateCommands(env);
const SERVED_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const ps = (containers: AppContainer[]) =>
  containers
    .map((c) => JSON.stringify({ ID: c.id, Names: c.name, Image: c.image, State: c.state }))
    .join("\n");

/**
 * A host running r1 in `blue`: it answers as docker, compose, tar and the ledger would, starts `green`
 * when the release starts its container, and fails whatever command runs while the step `failAt` runs.
 */
function scene(failAt?: string, answers: (c: Command) => Answer = () => undefined) {
  let current = "";
  const stderr: string[] = [];
  const progress = new Progress((text) => {
    stderr.push(text);
    if (text.startsWith("→ ")) current = text.slice(2);
  });
  let containers = [blue];
  /** Where in host.ran the commands after the failure begin. */
  const after = { index: -1 };
  const failing = () => {
    if (current !== failAt) return undefined;
    if (after.index < 0) after.index = host.ran.length;
    return new Error(`${failAt} broke`);
  };
  const host: FakeRunner = new FakeRunner((c) => {
    const failure = failing();
    if (failure) return failure;
    const special = answers(c);
    if (special) return special;
    const [program, sub] = c.argv;
    const text = line(c);
    if (text === line(dockerVersion())) return { stdout: "27.3.1\n" };
    if (text === line(composeVersion(env))) return { stdout: "Docker Compose version v2.29.7\n" };
    if (text === line(diskFree(env))) return { stdout: "    Avail\n52345678901\n" };
    if (text === line(recentReleases(state, 200)))
      return { stdout: `${JSON.stringify(releaseRecord({ release: "r1" }))}\n` };
    if (text === line(listArchive(snapshot))) return { stdout: "compose/compose.yaml\n" };
    if (text === line(readUpstream(env))) return { stdout: OLD_UPSTREAM };
    if (text === line(listAppContainers(env))) return { stdout: ps(containers) };
    if (text === line(listProjectVolumes(env))) return { stdout: `${VOLUME}\n` };
    if (text.includes("--scale")) containers = [...containers, green];
    if (text === line(containerHealthcheck("bbb"))) return { stdout: HEALTHCHECK };
    if (program === "docker" && sub === "inspect") return { stdout: "running healthy\n" };
    if (text === line(findNginx(env))) return { stdout: ps([nginx]) };
    if (text === line(reloadNginx(env, "ngx"))) return { stdout: WORKERS };
    if (readable(c) === EDGE_ANSWERS) return { stdout: "40 0\n" };
    if (text === line(CERTIFICATE.certificate(""))) return { stdout: SERVED_PEM };
    return undefined;
  });
  const local = new FakeRunner(() => failing(), "local");
  const served: string[] = [];
  const trusted: (string | null)[] = [];
  const looked: string[] = [];
  const ctx: DeployContext = {
    environment: env,
    runner: host,
    local,
    progress,
    who: "ci",
    config: shipment,
    backup: async () => {
      const failure = failing();
      if (failure) throw failure;
      return "b-1";
    },
    checkServing: async (release, facts) => {
      served.push(release);
      trusted.push(facts.servedCertificate);
      const failure = failing();
      if (failure) throw failure;
    },
    look: async (release) => {
      looked.push(release);
      return current === failAt ? `${failAt} broke` : undefined;
    },
    timing: { ...RELEASE_TIMING, drainMaxSeconds: 1, watchPollSeconds: 0.1 },
  };
  return { ctx, host, local, progress, stderr, served, trusted, looked, after };
}

/** The holder the release wrote when it took the lock: its token is what unlocking names. */
function token(host: FakeRunner): string {
  const acquire = host.ran.find((c) => line(c) === line(acquireLock(state, lockHolder)));
  return lockHolderSchema.parse(JSON.parse(acquire?.stdin ?? "")).token;
}
const lockHolder = {
  holder: "ci",
  purpose: "deploy r2",
  since: "2026-11-23T10:00:00.000Z",
  token: "x".repeat(8),
};
const LEDGER = line(appendRelease(state, releaseRecord()));
const ledgerLine = (host: FakeRunner) => {
  const append = host.ran.filter((c) => line(c) === LEDGER).at(-1);
  return JSON.parse(append?.stdin ?? "null");
};

const request = { image, release: "r2", migrate: true };
/** Every edgeAnswers command is the same but for its --since, which follows the clock. */
const EDGE_ANSWERS = "edge answers";
const JOURNAL = line(writeJournal(state, ""));
const readable = (c: Command) => (c.argv[3] === "shipyard-edge-answers" ? EDGE_ANSWERS : line(c));

describe("a release, run against FakeRunner", () => {
  it("executes exactly these commands, in this order, and says what serves", async () => {
    const { ctx, host, local, served, trusted, looked, stderr } = scene();
    const result = await deploy(ctx, request);
    // Progress lines the e2e test reads, as it reads them.
    expect(stderr.join("\n")).toMatch(/✓ preflight: docker \([\d.]+ s\) engine 27\.3\.1 on fake@host:22\n/);
    expect(stderr.join("\n")).toMatch(/✓ backup \([\d.]+ s\) \S+\n[\s\S]*→ migrate/);

    const bundle = local.ran[0]?.argv[3] ?? "";
    expect(bundle).toMatch(/shipyard-config-.*\/bundle\.tar$/);
    expect(local.lines).toEqual([line(packBundle("/repo", shipment.files, bundle))]);
    // The journal is rewritten before a step whenever what the undo needs has changed.
    expect(host.ran.map(readable)).toEqual([
      ...[dockerVersion(), composeVersion(env), diskFree(env), acquireLock(state, lockHolder)].map(line),
      ...[
        readJournal(state),
        recentReleases(state, 200),
        CERTIFICATE.settings,
        CERTIFICATE.certificate(""),
        listAppContainers(env),
        listProjectVolumes(env),
      ].map(line),
      JOURNAL,
      ...[snapshotConfig(".", shipment.files, snapshot), listArchive(snapshot)].map(line),
      JOURNAL,
      ...[unpackBundle(".", bundle), pullImage(image), readUpstream(env)].map(line),
      JOURNAL,
      ...[startBeside(env, image, "r2", 1), listAppContainers(env)].map(line),
      JOURNAL,
      line(migrateIn("bbb", env.app.migrate)),
      JOURNAL,
      ...[containerHealthcheck("bbb"), probeReady("bbb", 5, CHECK), findNginx(env)].map(line),
      // nginx's id (the undo reloads it), then the switch.
      JOURNAL,
      JOURNAL,
      ...[writeUpstream(env, ""), testNginx(env, "ngx"), reloadNginx(env, "ngx")].map(line),
      EDGE_ANSWERS,
      EDGE_ANSWERS,
      ...[writeUpstream(env, ""), testNginx(env, "ngx"), reloadNginx(env, "ngx"), clearJournal(state)].map(
        line,
      ),
      line(drainNginx(env, "ngx", ["7", "8"], 1)),
      ...[listAppContainers(env), stopContainer("aaa", 15), removeContainer("aaa")].map(line),
      ...[appendRelease(state, releaseRecord()), removeSnapshot(snapshot)].map(line),
      line(releaseLock(state, token(host))),
    ]);
    // The switch keeps r1 as nginx's backup through the watch window; then r2 serves alone.
    const upstreams = host.ran.filter((c) => line(c) === line(writeUpstream(env, ""))).map((c) => c.stdin);
    expect(upstreams).toEqual([
      upstreamConf("shipyard-app-2", ["shipyard-app-1"]),
      upstreamConf("shipyard-app-2"),
    ]);
    expect(served).toEqual(["r2"]);
    // The check through publicUrl trusts the certificate the host serves (setup's self-signed one, say).
    expect(trusted).toEqual([SERVED_PEM]);
    expect(looked).toEqual(["r2", "r2"]);
    expect(ledgerLine(host)).toMatchObject({
      release: "r2",
      image: "registry.example.com/shop/app",
      digest,
      result: "succeeded",
      who: "ci",
    });
    expect(result).toEqual({
      release: "r2",
      image: "registry.example.com/shop/app",
      digest,
      previous: "r1",
      container: "shipyard-app-2",
      stopped: ["shipyard-app-1"],
      leftover: [],
      backup: "b-1",
    });
  });

  it("a first release (no app container, no volume of the project): no backup, as there is no data yet, said in the output and the ledger", async () => {
    let stackStarted = false;
    let nginxStarted = false;
    const first = scene(undefined, (c) => {
      if (line(c) === line(recentReleases(state, 200))) return { stdout: "" };
      if (line(c) === line(ensureNginx(env))) nginxStarted = true;
      if (line(c) === line(findNginx(env))) return { stdout: nginxStarted ? ps([nginx]) : "" };
      if (line(c) === line(startStack(env, image, "r1"))) stackStarted = true;
      if (line(c) === line(listAppContainers(env))) return { stdout: stackStarted ? ps([green]) : "" };
      if (line(c) === line(listProjectVolumes(env))) return { stdout: "" };
      return undefined;
    });
    let backups = 0;
    first.ctx.backup = async () => `b-${++backups}`;
    const r1 = { image, release: "r1", migrate: true };
    const result = await deploy(first.ctx, r1);

    expect(backups).toBe(0);
    expect(first.stderr.join("\n")).toMatch(/✓ backup: skipped \([\d.]+ s\) first release, no data yet\n/);
    const bundle = first.local.ran[0]?.argv[3] ?? "";
    expect(first.host.ran.map(readable)).toEqual([
      ...[dockerVersion(), composeVersion(env), diskFree(env), acquireLock(state, lockHolder)].map(line),
      ...[
        readJournal(state),
        recentReleases(state, 200),
        CERTIFICATE.settings,
        CERTIFICATE.certificate(""),
        listAppContainers(env),
        listProjectVolumes(env),
      ].map(line),
      JOURNAL,
      ...[snapshotConfig(".", shipment.files, `${state}/config-before-r1.tar`)].map(line),
      line(listArchive(`${state}/config-before-r1.tar`)),
      JOURNAL,
      ...[unpackBundle(".", bundle), pullImage(image), readUpstream(env)].map(line),
      JOURNAL,
      line(startStack(env, image, "r1")),
      JOURNAL,
      line(listAppContainers(env)),
      JOURNAL,
      // No nginx runs yet: compose starts it once the upstream names the new container.
      ...[containerHealthcheck("bbb"), probeReady("bbb", 5, CHECK), findNginx(env)].map(line),
      JOURNAL,
      ...[writeUpstream(env, ""), ensureNginx(env), findNginx(env)].map(line),
      JOURNAL,
      ...[testNginx(env, "ngx"), reloadNginx(env, "ngx"), clearJournal(state)].map(line),
      line(drainNginx(env, "ngx", ["7", "8"], 1)),
      ...[listAppContainers(env), appendRelease(state, releaseRecord())].map(line),
      line(removeSnapshot(`${state}/config-before-r1.tar`)),
      line(releaseLock(state, token(first.host))),
    ]);
    expect(ledgerLine(first.host)).toMatchObject({
      release: "r1",
      result: "succeeded",
      note: "no backup: first release, no data yet",
    });
    expect(result).toMatchObject({
      previous: null,
      backup: null,
      backupSkipped: "first release, no data yet",
    });
    // --dry-run of a host with no app container prints the same steps.
    const plan = releasePlan(
      scene().ctx,
      r1,
      { containers: [], volumes: [] },
      { ...lockHolder, purpose: "deploy r1" },
    );
    expect(first.progress.steps.map((s) => s.step)).toEqual(plan.map((s) => s.step));
  });

  it("takes the very steps --dry-run prints, in the same order", async () => {
    const { ctx, progress } = scene();
    await deploy(ctx, request);
    const plan = releasePlan(scene().ctx, request, { containers: [blue], volumes: [VOLUME] }, lockHolder);
    expect(progress.steps.map((s) => s.step)).toEqual(plan.map((s) => s.step));
  });

  it("reports an old container that will not stop, and still succeeds", async () => {
    const { ctx, host } = scene(undefined, (c) =>
      line(c) === line(stopContainer("aaa", 15)) ? new Error("docker stop timed out") : undefined,
    );
    const result = await deploy(ctx, request);
    expect(result.leftover).toEqual(["shipyard-app-1"]);
    expect(host.lines).not.toContain(line(removeContainer("aaa")));
    expect(ledgerLine(host)).toMatchObject({ result: "succeeded", note: "not removed: shipyard-app-1" });
  });

  it("rolls back a release that stops serving in the watch window, keeping r1 as nginx's backup until then", async () => {
    const { ctx, host, looked } = scene();
    let looks = 0;
    ctx.look = async (release) => {
      looked.push(release);
      return ++looks > 1 ? "/healthz answered 500, /version named release r1" : undefined;
    };
    const longer = { ...env, watch: { ...env.watch, seconds: 0.3 } };
    const error = await deploy({ ...ctx, environment: longer }, request).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /^DeployFailed: deploy of r2 failed at "watch": release r2 stopped serving \d+ s into the watch window: \/healthz answered 500, \/version named release r1\n {2}undone: restore config/,
    );
    // The second failed look decides: one is a blip.
    expect(looked).toEqual(["r2", "r2", "r2"]);
    expect(host.lines).not.toContain(line(stopContainer("aaa", 15)));
    expect(ledgerLine(host)).toMatchObject({ release: "r2", result: "rolled-back" });
  });

  it("rolls back a release whose share of 5xx in nginx's log passes the limit, though every look is fine", async () => {
    const { ctx, host } = scene(undefined, (c) =>
      readable(c) === EDGE_ANSWERS ? { stdout: "40 2\n" } : undefined,
    );
    const error = await deploy(ctx, request).catch((e: Error) => e);
    expect(String(error)).toContain(
      'failed at "watch": 2 of 40 requests through nginx (5.0 %) were answered 5xx by the new release; at most 1 % may be',
    );
    expect(ledgerLine(host)).toMatchObject({
      result: "rolled-back",
      note: expect.stringMatching(/^failed: 2 of 40 requests/),
    });
  });

  it.each(["SIGINT", "SIGTERM"])(
    "undoes a release interrupted by %s like a failure: r1 serves, the ledger says why, the lock is released",
    async (signalName) => {
      const interrupt = new AbortController();
      // The interrupt comes while the release waits for its container to become ready.
      let polls = 0;
      const healthy = scene(undefined, (c) => {
        if (line(c) === line(containerHealth("bbb"))) return { stdout: "running starting\n" };
        if (line(c) !== line(probeReady("bbb", 5, CHECK))) return undefined;
        if (++polls === 1) interrupt.abort(new Interrupted(signalName));
        return { exitCode: NOT_READY, stdout: "503 {}\n" };
      });
      const error = await deploy({ ...healthy.ctx, signal: interrupt.signal }, request).catch(
        (e: Error) => e,
      );
      expect(String(error)).toBe(
        [
          `DeployFailed: deploy of r2 was interrupted by ${signalName} (at "wait healthy"); it was undone`,
          ...[...config, ...container, "ledger"].map((u) => `  undone: ${u}`),
          "  migrations of r2 stay applied; restore the pre-release backup if r1 cannot run on them",
          "  release r1 serves, verified through nginx at https://127.0.0.1:8443",
        ].join("\n"),
      );
      expect(polls).toBe(1);
      expect(ledgerLine(healthy.host)).toMatchObject({
        release: "r2",
        result: "rolled-back",
        note: expect.stringMatching(new RegExp(`^interrupted by ${signalName}; migrations`)),
      });
      expect(healthy.host.lines.slice(-2)).toEqual([
        line(clearJournal(state)),
        line(releaseLock(state, token(healthy.host))),
      ]);
      expect(healthy.served).toEqual(["r1"]);
    },
  );

  it("keeps in the journal, before each step, what the undo would need if the CLI were killed there", async () => {
    const { ctx, host } = scene();
    await deploy(ctx, request);
    const journals = host.ran.filter((c) => line(c) === JOURNAL).map((c) => parseJournal(c.stdin ?? ""));
    expect(journals.map((j) => j?.left)).toEqual([
      { config: null, switched: false, previousUpstream: "", fresh: null, migrated: false, nginx: null },
      expect.objectContaining({ config: { base: ".", snapshot, added: ["nginx/nginx.conf"] } }),
      expect.objectContaining({ previousUpstream: OLD_UPSTREAM, migrated: false }),
      // Migrated inside the new container, which the undo removes: it is known first.
      expect.objectContaining({ fresh: green, migrated: false }),
      expect.objectContaining({ fresh: green, migrated: true }),
      expect.objectContaining({ nginx: "ngx", switched: false }),
      // Written before the switch runs: a run killed during it leaves the undo the previous upstream.
      expect.objectContaining({ fresh: green, switched: true }),
    ]);
    expect(journals[0]?.record).toMatchObject({ release: "r2", result: "rolled-back", who: "ci" });
  });

  it("undoes what a killed release left (from its journal) before starting its own, and says so", async () => {
    const killed = {
      record: releaseRecord({ release: "r1b", who: "laptop", result: "rolled-back" }),
      left: {
        config: null,
        switched: true,
        previousUpstream: OLD_UPSTREAM,
        fresh: { id: "ccc", name: "shipyard-app-3", image, state: "running" },
        migrated: false,
      },
    };
    const { ctx, host, stderr } = scene(undefined, (c) =>
      line(c) === line(readJournal(state)) ? { stdout: `${JSON.stringify(killed)}\n` } : undefined,
    );
    await deploy(ctx, request);
    const recovery = host.lines.slice(host.lines.indexOf(line(readJournal(state))) + 1);
    expect(recovery.slice(0, 7)).toEqual(
      [
        // Its journal predates nginx's id: each nginx command finds the running nginx itself.
        writeUpstream(env, OLD_UPSTREAM),
        testNginx(env, null),
        reloadNginx(env, null),
        stopContainerIfPresent("ccc", 5),
        removeContainerIfPresent("ccc"),
        appendRelease(state, releaseRecord()),
        clearJournal(state),
      ].map(line),
    );
    const recorded = JSON.parse(host.ran.find((c) => line(c) === LEDGER)?.stdin ?? "null");
    expect(recorded).toMatchObject({
      release: "r1b",
      who: "laptop",
      result: "rolled-back",
      note: "interrupted (its CLI stopped mid-way); undone by the next run, ci",
    });
    expect(stderr.join("\n")).toMatch(
      /✓ recover r1b: clear journal \([\d.]+ s\) the deploy of r1b by laptop \(started [^)]+\) was interrupted; what it left is undone/,
    );
    // Then r2 is released as usual, and succeeds.
    expect(ledgerLine(host)).toMatchObject({ release: "r2", result: "succeeded" });
  });

  it("fails a migration that exits non-zero with the end of its log", async () => {
    const { ctx } = scene(undefined, (c) =>
      line(c) === line(migrateIn("bbb", env.app.migrate))
        ? { exitCode: 1, stdout: "migrating\nno_such_table\n" }
        : undefined,
    );
    await expect(deploy(ctx, request)).rejects.toThrow(
      'deploy of r2 failed at "migrate": the migrations of r2 failed in shipyard-app-2 (exit 1); the end of its log:\nmigrating\nno_such_table\n  undone: restore config',
    );
  });
});

/** What each undo step runs. */
const UNDO: Record<string, Command> = {
  "restore config": restoreConfig(".", snapshot),
  "remove added config": removeConfigFiles(".", ["nginx/nginx.conf"]),
  "restore upstream": writeUpstream(env, OLD_UPSTREAM),
  "nginx -t": testNginx(env, "ngx"),
  "reload nginx": reloadNginx(env, "ngx"),
  "stop shipyard-app-2": stopContainer("bbb", 5),
  "remove shipyard-app-2": removeContainer("bbb"),
  ledger: appendRelease(state, releaseRecord()),
};
const config = ["restore config", "remove added config"];
const container = ["stop shipyard-app-2", "remove shipyard-app-2"];
const upstream = ["restore upstream", "nginx -t", "reload nginx"];

/** For a failure at each step that changes the host: what is undone, in order. */
const undoneAfter: [step: string, undone: string[]][] = [
  ["backup", ["ledger"]],
  ["pack config", ["ledger"]],
  ["snapshot config", ["ledger"]],
  ["list config snapshot", ["ledger"]],
  ["upload config", [...config, "ledger"]],
  ["pull", [...config, "ledger"]],
  ["current upstream", [...config, "ledger"]],
  ["start beside", [...config, "ledger"]],
  ["find the new container", [...config, "ledger"]],
  ["migrate", [...config, ...container, "ledger"]],
  ["wait healthy", [...config, ...container, "ledger"]],
  ["find nginx", [...config, ...container, "ledger"]],
  // A switch that broke half way is undone too: the previous upstream goes back whatever happened.
  ["switch upstream", [...config, ...upstream, ...container, "ledger"]],
  ["nginx -t", [...config, ...upstream, ...container, "ledger"]],
  ["reload nginx", [...config, ...upstream, ...container, "ledger"]],
  ["verify through nginx", [...config, ...upstream, ...container, "ledger"]],
  ["watch", [...config, ...upstream, ...container, "ledger"]],
  ["upstream without backup", [...config, ...upstream, ...container, "ledger"]],
  ["nginx -t (without backup)", [...config, ...upstream, ...container, "ledger"]],
  ["reload nginx (without backup)", [...config, ...upstream, ...container, "ledger"]],
];

describe("a release that fails, run against FakeRunner", () => {
  it.each(undoneAfter)(
    "at %s: undoes exactly this, records it rolled back, checks r1 serves, unlocks",
    async (step, undone) => {
      const { ctx, host, served, after } = scene(step);
      const error = await deploy(ctx, request).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.name).toBe("DeployFailed");
      const order = undoneAfter.map(([s]) => s);
      const migrated = order.indexOf(step) > order.indexOf("migrate");
      expect(error?.message).toBe(
        [
          `deploy of r2 failed at "${step}": ${step} broke`,
          ...undone.map((u) => `  undone: ${u}`),
          ...(migrated
            ? ["  migrations of r2 stay applied; restore the pre-release backup if r1 cannot run on them"]
            : []),
          "  release r1 serves, verified through nginx at https://127.0.0.1:8443",
        ].join("\n"),
      );
      // What ran after the failure: the undo, the journal cleared (all is undone), the unlock; nothing else.
      expect(host.ran.slice(after.index).map(readable)).toEqual([
        ...undone.map((u) => line(UNDO[u] as Command)),
        line(clearJournal(state)),
        line(releaseLock(state, token(host))),
      ]);
      expect(ledgerLine(host)).toMatchObject({
        release: "r2",
        result: "rolled-back",
        note: migrated
          ? `failed: ${step} broke; migrations of this release stay applied; restore the pre-release backup if the previous release cannot run on them`
          : `failed: ${step} broke`,
      });
      expect(served.at(-1)).toBe("r1");
    },
  );

  it.each([
    ["preflight: docker", 1],
    ["preflight: compose", 2],
    ["preflight: disk space", 3],
  ])("at %s: stops before the lock, changes nothing", async (step, commands) => {
    const { ctx, host } = scene(step);
    await expect(deploy(ctx, request)).rejects.toThrow(`${step} broke`);
    expect(host.ran).toHaveLength(commands);
  });

  it.each([
    ["read ledger", recentReleases(state, 200)],
    ["find running app containers", listAppContainers(env)],
    ["find the project's volumes", listProjectVolumes(env)],
  ])("at %s: nothing changed yet, so nothing is undone; the lock is released", async (step, command) => {
    const { ctx, host } = scene(step);
    await expect(deploy(ctx, request)).rejects.toThrow(new RegExp(`^${step} broke$`));
    expect(host.lines.slice(-2)).toEqual([line(command), line(releaseLock(state, token(host)))]);
  });

  it.each(["find old containers", "ledger", "drop config snapshot"])(
    "at %s, once r2 serves: reported as it is, nothing undone, the lock released",
    async (step) => {
      const { ctx, host, after } = scene(step);
      await expect(deploy(ctx, request)).rejects.toThrow(new RegExp(`^${step} broke$`));
      // After the failing command only the unlock runs: nothing is undone once the release serves.
      expect(host.lines.slice(after.index)).toEqual([line(releaseLock(state, token(host)))]);
    },
  );
});
