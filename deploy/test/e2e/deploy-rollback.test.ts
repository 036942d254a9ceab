/**
 * `shipyard deploy` and `shipyard rollback` for real: the CLI as a process, this machine as the target
 * host reached over real SSH (sshd on 127.0.0.1, pinned host key), the production compose stack on the
 * real Docker engine, images pulled by digest from a registry on 127.0.0.1, traffic through nginx over
 * HTTPS. The tests run in order; each starts from the state the previous one left.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { startLoad } from "./support/load.js";
import { type DeployTarget, REPO_ROOT, type ShipyardRun, startDeployTarget } from "./support/target.js";

let target: DeployTarget;
let productId: number;

const image = (variant: string) => {
  const ref = target.images[variant];
  if (!ref) throw new Error(`no image for ${variant}`);
  return ref;
};
const deployArgs = (variant: string, release: string) => [
  "deploy",
  "--env=remote",
  `--image=${image(variant)}`,
  `--release=${release}`,
  "--no-backup",
];
const deploy = (variant: string, release: string) => target.shipyard(deployArgs(variant, release));

/** A failed release left v2 serving, with its data, in one container, and the ledger says so; no lock, no journal. */
async function expectRolledBack(run: ShipyardRun, release: string): Promise<void> {
  expect(existsSync(path.join(target.stateDirectory, "deploy.lock"))).toBe(false);
  expect(existsSync(path.join(target.stateDirectory, "release-journal.json"))).toBe(false);
  expect(run.stderr).toMatch(/release v2 serves, verified through nginx/);
  expect(await target.servedRelease()).toBe("v2");
  const product = await target.edge(`/products/${productId}`);
  expect(product.status).toBe(200);
  expect(JSON.parse(product.text)).toMatchObject({ sku: "e2e-survivor", stock: 7 });
  expect(await target.appContainers()).toHaveLength(1);
  expect((await target.releases()).at(-1)).toMatchObject({ release, result: "rolled-back" });
}

beforeAll(async () => {
  target = await startDeployTarget("shipyard-e2e-deploy");
});

afterAll(async () => {
  await target?.teardown();
});

describe("deploy and rollback on a real engine through nginx", () => {
  it("first deploy: ships the configuration, v1 starts with its data services and serves through nginx; the ledger records it by digest", async () => {
    // The host's copy is stale: the deploy ships the repository's.
    writeFileSync(path.join(target.dir, "nginx/html/robots.txt"), "stale\n");
    // As a user deploys: no --no-backup. Nothing ran here yet, so there is no data to back up, and it says so.
    const run = await target.shipyard(["deploy", "--env=remote", `--image=${image("v1")}`, "--release=v1"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✓ backup: skipped \([\d.]+ s\) first release, no data yet\n/);
    expect(run.stderr).toContain(`preflight: docker`);
    expect(run.stderr).toContain(`on ${target.sshWhere}`);
    expect(run.stdout).toMatch(/release v1 serves through nginx/);
    expect(await target.servedRelease()).toBe("v1");
    expect(run.stderr).toContain(`to ${target.dir} on ${target.sshWhere}`);
    expect((await target.edge("/robots.txt")).text).toBe(
      readFileSync(path.join(REPO_ROOT, "nginx/html/robots.txt"), "utf8"),
    );

    const created = await target.edge("/products", {
      method: "POST",
      admin: true,
      body: { sku: "e2e-survivor", name: "Survivor", priceCents: 1200, stock: 7 },
    });
    expect(created.status, created.text).toBe(201);
    productId = (JSON.parse(created.text) as { id: number }).id;

    const [record] = await target.releases();
    expect(record).toMatchObject({
      release: "v1",
      result: "succeeded",
      who: "e2e@test",
      note: "no backup: first release, no data yet",
    });
    expect(`${record?.image}@${record?.digest}`).toBe(image("v1"));
  });

  it("upgrades v1 to v2 after a verified backup (its off-site store down), while requests flow through nginx the whole time, with zero failed requests", async () => {
    const load = startLoad(() => target.edge("/healthz"), { workers: 4, maxMs: 180_000 });
    // /version is rate-limited by nginx (20 r/s per client): sampled slowly, it shows the switch.
    const seen: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; i < 1_000 && sampling; i++) {
        const reply = await target.edge("/version");
        seen.push(
          reply.status === 200
            ? (JSON.parse(reply.text) as { release: string }).release
            : `HTTP ${reply.status}`,
        );
        await sleep(250);
      }
    })();
    await sleep(1_000);
    // This deploy takes the verified backup first: dumped inside the stack's Postgres container, checked on a scratch server.
    const scratch = await startPostgres();
    const run = await target
      .shipyard(["deploy", "--env=remote", `--image=${image("v2")}`, "--release=v2"], {
        env: { SHIPYARD_SCRATCH_DATABASE_URL: scratch.adminUrl },
      })
      .finally(() => scratch.stop());
    await sleep(1_000);
    sampling = false;
    await sampler;
    const report = await load.stop();

    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✓ backup \([\d.]+ s\) \S+\n[\s\S]*→ migrate/);
    // The off-site store is down: the verified backup is kept here, the deploy goes on, and says so.
    expect(run.stdout).toMatch(
      /WARNING: the backup's off-site copy failed \(.*ECONNREFUSED.*\); retry with: shipyard upload --env=remote --backup=/,
    );
    const backupId = /verified backup before the release: (\S+)/.exec(run.stdout)?.[1];
    expect(await target.backupIds()).toEqual([backupId]);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    // v1 until the switch, v2 after it, never back and nothing else.
    const firstV2 = seen.indexOf("v2");
    expect(firstV2).toBeGreaterThan(0);
    expect(seen.slice(0, firstV2).every((r) => r === "v1")).toBe(true);
    expect(seen.slice(firstV2).every((r) => r === "v2")).toBe(true);
    expect(await target.servedRelease()).toBe("v2");
    expect(await target.appContainers()).toHaveLength(1);
  });

  it("rolls back a v3 whose health check fails after its migration: v2 keeps serving, and stays ready on v3's schema", async () => {
    const run = await deploy("unhealthy", "v3");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/✓ migrate [\s\S]*deploy of v3 failed at "wait healthy"/);
    expect(run.stderr).toMatch(/migrations of v3 stay applied/);
    await expectRolledBack(run, "v3");
    // v3's expand migration stays; v2's own healthcheck (its /readyz) must still pass on that schema.
    const [v2] = await target.appContainers();
    const healthcheck = await execa(
      "docker",
      [
        "exec",
        v2 ?? "?",
        "node",
        "-e",
        "fetch('http://127.0.0.1:3000/readyz').then(async (r) => { console.log(await r.text()); process.exit(r.ok ? 0 : 1) })",
      ],
      { reject: false },
    );
    expect(healthcheck.exitCode, healthcheck.stdout).toBe(0);
  });

  it("rolls back after the switch when the new release fails through nginx: upstream restored, v2 verified", async () => {
    const run = await deploy("wrong-answers", "v3b");
    expect(run.exitCode).toBe(1);
    // Its 500s were retried on v2, nginx's backup during the switch: users were answered by v2 all along.
    expect(run.stderr).toMatch(
      /deploy of v3b failed at "verify through nginx": .* did not serve release v3b within 20 s: \/healthz answered 200, \/version names release v2/,
    );
    expect(run.stderr).toMatch(/undone: restore upstream\n {2}undone: nginx -t\n {2}undone: reload nginx/);
    await expectRolledBack(run, "v3b");
  });

  it("rolls back a release whose nginx configuration is broken: the old files back, the new one gone, v2 serves", async () => {
    // The repository as a later commit has it: one more conf.d file, which nginx -t refuses.
    const source = path.join(target.dir, "broken-config");
    for (const dir of ["compose", "nginx"])
      cpSync(path.join(REPO_ROOT, dir), path.join(source, dir), { recursive: true });
    writeFileSync(path.join(source, "nginx/conf.d/broken.conf"), "this_is_not_a_directive on;\n");
    const run = await target.shipyard(
      ["deploy", "--env=remote", `--image=${image("v2")}`, "--release=v3c", "--no-backup"],
      { env: { SHIPYARD_CONFIG_SOURCE: source } },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/deploy of v3c failed at "nginx -t"/);
    expect(run.stderr).toMatch(
      /undone: restore config\n {2}undone: remove added config\n {2}undone: restore upstream/,
    );
    expect(existsSync(path.join(target.dir, "nginx/conf.d/broken.conf"))).toBe(false);
    await expectRolledBack(run, "v3c");
  });

  it("rolls back a release whose migration fails in its new container (no traffic reached it): the container goes with the undo", async () => {
    const run = await deploy("broken-migration", "v4");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/deploy of v4 failed at "migrate"/);
    expect(run.stderr).toMatch(/no_such_table/);
    await expectRolledBack(run, "v4");
  });

  it("rolls back a release that starts failing inside the watch window, under load with zero failed requests: v2 stayed nginx's backup", async () => {
    const load = startLoad(() => target.edge("/healthz"), { workers: 4, maxMs: 180_000 });
    const run = await deploy("fails-later", "v3d");
    const report = await load.stop();
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/✓ verify through nginx[\s\S]*deploy of v3d failed at "watch": /);
    expect(run.stderr).toMatch(/undone: restore upstream\n {2}undone: nginx -t\n {2}undone: reload nginx/);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(50);
    await expectRolledBack(run, "v3d");
    expect((await target.releases()).at(-1)?.note).toMatch(/^failed: /);
  });

  it("undoes a deploy interrupted by SIGINT while its container starts: v2 serves, the lock is free, the ledger says why", async () => {
    const running = target.startShipyard(deployArgs("v1", "v3e"));
    await running.waitFor(/→ wait healthy/);
    running.signal("SIGINT");
    const run = await running.done;
    expect(run.exitCode, run.stderr).toBe(130);
    expect(run.stderr).toContain("SIGINT: stopping the deploy at its next step and undoing it");
    expect(run.stderr).toMatch(
      /deploy of v3e was interrupted by SIGINT \(at "wait healthy"\); it was undone\n {2}undone: restore config/,
    );
    await expectRolledBack(run, "v3e");
    expect((await target.releases()).at(-1)?.note).toMatch(/^interrupted by SIGINT/);
  });

  it("undoes a deploy stopped by SIGTERM in its watch window: the upstream back on v2, the new container gone", async () => {
    const running = target.startShipyard(deployArgs("v1", "v3f"));
    await running.waitFor(/→ watch/);
    running.signal("SIGTERM");
    const run = await running.done;
    expect(run.exitCode, run.stderr).toBe(143);
    expect(run.stderr).toMatch(
      /deploy of v3f was interrupted by SIGTERM \(at "watch"\); it was undone\n[\s\S]*undone: restore upstream/,
    );
    await expectRolledBack(run, "v3f");
  });

  it("refuses a deploy whose backup directory is too full, in one line naming the directory, before anything changes", async () => {
    const full = path.join(target.dir, "full-disk-backups");
    mkdirSync(full, { recursive: true });
    await execa("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", full]);
    const scratch = await startPostgres();
    try {
      const run = await target.shipyard(
        ["deploy", "--env=remote-full-disk", `--image=${image("v1")}`, "--release=v3g"],
        { env: { SHIPYARD_SCRATCH_DATABASE_URL: scratch.adminUrl } },
      );
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `deploy of v3g failed at "backup": no space left on device in ${full} \\(needs ~\\d+ MB, has 2 MB\\)\n`,
        ),
      );
      expect(run.stderr).not.toMatch(/→ pull/);
      expect(readdirSync(full)).toEqual([]);
      await expectRolledBack(run, "v3g");
    } finally {
      await scratch.stop();
      await execa("umount", [full], { reject: false });
    }
  });

  it("refuses a second deploy while one holds the lock, naming the holder; the first completes", async () => {
    const first = deploy("v1", "v5");
    const lock = path.join(target.stateDirectory, "deploy.lock");
    for (let i = 0; i < 600 && !existsSync(lock); i++) await sleep(50);
    expect(existsSync(lock)).toBe(true);
    const second = await deploy("v2", "v6");
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`remote is locked on ${target.sshWhere}: held by e2e@test for deploy v5`);
    const done = await first;
    expect(done.exitCode, done.stderr).toBe(0);
    expect(await target.servedRelease()).toBe("v5");
    expect(existsSync(lock)).toBe(false);
  });

  it("rollback brings back the previous release that ran another image, then --to names one", async () => {
    const back = await target.shipyard(["rollback", "--env=remote", "--no-backup"]);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await target.servedRelease()).toBe("v2");
    // v1 ships none of v3's migration and must still get healthy on the schema v3 left.
    const to = await target.shipyard(["rollback", "--env=remote", "--to=v1", "--no-backup"]);
    expect(to.exitCode, to.stderr).toBe(0);
    expect(await target.servedRelease()).toBe("v1");
    expect((await target.edge(`/products/${productId}`)).status).toBe(200);
    const records = await target.releases();
    expect(records.slice(-2).map((r) => [r.release, r.result, r.note])).toEqual([
      ["v2", "succeeded", "rollback from v5"],
      ["v1", "succeeded", "rollback from v2"],
    ]);
  });

  it("deploys with the local target, the same host without SSH, the same way", async () => {
    const run = await target.shipyard([
      "deploy",
      "--env=local",
      `--image=${image("v2")}`,
      "--release=v7",
      "--no-backup",
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/preflight: docker .* on local/);
    expect(await target.servedRelease()).toBe("v7");
    expect(await target.appContainers()).toHaveLength(1);
    expect((await target.releases()).at(-1)).toMatchObject({
      release: "v7",
      env: "local",
      result: "succeeded",
    });
  });

  it("after a kill -9 right after the switch, the next deploy takes over the lock, undoes what was left and says so", async () => {
    const killed = target.startShipyard(deployArgs("v1", "v8"));
    await killed.waitFor(/✓ switch upstream/);
    killed.signal("SIGKILL");
    await killed.done;
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`shipyard-config-${killed.pid}-`))).toHaveLength(
      1,
    );
    // What it left: the lock, its container, an upstream file naming that unverified container, the journal.
    const lock = path.join(target.stateDirectory, "deploy.lock");
    const journalFile = path.join(target.stateDirectory, "release-journal.json");
    expect(existsSync(lock)).toBe(true);
    const journal = JSON.parse(readFileSync(journalFile, "utf8")) as {
      left: { switched: boolean; fresh: { name: string } };
    };
    expect(journal.left.switched).toBe(true);
    expect(readFileSync(path.join(target.dir, "nginx/conf.d/upstream.conf"), "utf8")).toContain(
      `server ${journal.left.fresh.name}:`,
    );
    expect(await target.appContainers()).toHaveLength(2);
    const status = await target.shipyard(["status", "--env=remote"]);
    expect(status.stdout).toMatch(
      /INTERRUPTED: the release of v8 by e2e@test \(started [^)]+\) stopped mid-way; nginx's upstream file may name its unverified container; the next deploy or rollback undoes what it left/,
    );

    const next = await deploy("v2", "v9");
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toMatch(
      /✓ take over the lock of e2e@test \(deploy v8\) \([\d.]+ s\) its process \d+ on this machine is gone/,
    );
    expect(next.stderr).toMatch(
      /✓ recover v8: clear journal \([\d.]+ s\) the deploy of v8 by e2e@test \(started [^)]+\) was interrupted; what it left is undone/,
    );
    expect(await target.servedRelease()).toBe("v9");
    expect(await target.appContainers()).toHaveLength(1);
    const records = await target.releases();
    expect(records.slice(-2).map((r) => [r.release, r.result])).toEqual([
      ["v8", "rolled-back"],
      ["v9", "succeeded"],
    ]);
    expect(records.at(-2)?.note).toMatch(/^interrupted \(its CLI stopped mid-way\); undone by the next run/);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(journalFile)).toBe(false);
    // The killed run's temporary directories (its SSH session with the key copy and master, its config bundle) are gone too.
    expect(readdirSync(tmpdir()).filter((n) => n.includes(`-${killed.pid}-`))).toEqual([]);
  });
});
