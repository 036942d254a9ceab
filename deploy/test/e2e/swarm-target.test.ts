/**
 * `target.kind: swarm` as users run it: the deploy CLI over SSH (pinned host key) to a one-node swarm's
 * manager in the test engine (support/swarm.ts), which carries the data label. Each release goes the whole
 * way: lock, ledger, the verified backup on the server, the configuration shipped, compose rendering the
 * stack on the manager, `docker stack deploy`, Swarm's start-first update, verify and the watch window
 * through nginx over HTTPS. What users see is checked from outside, under load.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReleaseRecord } from "../../src/commands/ledger.js";
import { runCli } from "../support/cli.js";
import { writeEnvironmentsFile } from "../support/environment.js";
import { startSshServer, type TestSshServer } from "../support/ssh-server.js";
import { startLoad } from "./support/load.js";
import { type SwarmStack, startSwarmStack } from "./support/swarm.js";
import { REPO_ROOT } from "./support/target.js";

let stack: SwarmStack;
let sshd: TestSshServer;
let config: string;
/** The verified backup the release of v2 took first, which the restore test puts back. */
let backupBeforeV2: string | undefined;

const cliEnv = () => ({
  SHIPYARD_WHO: "e2e@test",
  SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile,
  // The self-signed certificate nginx serves, trusted as a browser would trust a real one.
  NODE_EXTRA_CA_CERTS: path.join(stack.layout.composeDir, "certs/fullchain.pem"),
});

const shipyard = async (args: readonly string[], env: Record<string, string> = {}) => {
  // Before a `--`, after which the words are exec's command.
  const dashes = args.indexOf("--");
  const withEnv =
    dashes === -1
      ? [...args, "--env=swarm"]
      : [...args.slice(0, dashes), "--env=swarm", ...args.slice(dashes)];
  const run = await runCli(withEnv, {
    cwd: REPO_ROOT,
    config,
    env: { ...cliEnv(), ...env },
  });
  return { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), stderr: String(run.stderr) };
};

const deploy = (variant: string, release: string) =>
  shipyard(["deploy", `--image=${stack.images[variant]}`, `--release=${release}`]);

async function releases(): Promise<ReleaseRecord[]> {
  const { stdout } = await shipyard(["releases", "--json", "--limit=50"]);
  return (JSON.parse(stdout) as { result: { releases: ReleaseRecord[] } }).result.releases;
}

/**
 * Load while `during` runs: HTTPS requests to /healthz through nginx, and /version five times a second,
 * every answer of which must name one of `serving`.
 */
async function underLoad<T>(serving: readonly string[], during: () => Promise<T>) {
  const releasesSeen = new Map<string, number>();
  const load = startLoad(() => stack.edge("/healthz"));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const release = await stack.servedRelease().catch((error: Error) => error.message);
      releasesSeen.set(release, (releasesSeen.get(release) ?? 0) + 1);
      await sleep(200);
    }
  })();
  let result: T;
  try {
    result = await during();
  } finally {
    sampling = false;
    await sampler;
  }
  const seen = Object.fromEntries(releasesSeen);
  return {
    result,
    report: await load.stop(),
    seen,
    strangers: Object.keys(seen).filter((r) => !serving.includes(r)),
  };
}

beforeAll(async () => {
  stack = await startSwarmStack({
    prefix: "shipyard-swarm",
    variants: ["v1", "v2", "turns-bad", "unhealthy"],
    replicas: 2,
    watchSeconds: 10,
  });
  sshd = await startSshServer({ ownHome: true });
  const { user, port, hostKey } = sshd.target;
  const { composeDir, nginxDir } = stack.layout;
  config = await writeEnvironmentsFile(path.join(stack.dir, "environments.yaml"), {
    swarm: {
      target: {
        kind: "swarm",
        host: "127.0.0.1",
        user,
        port,
        hostKey,
        replicas: 2,
        dataLabel: stack.dataLabel,
      },
      compose: {
        project: stack.name,
        directory: composeDir,
        cli: stack.composeCli,
        nginxConfDirectory: path.join(nginxDir, "conf.d"),
      },
      stateDirectory: path.join(stack.dir, "state"),
      publicUrl: `https://127.0.0.1:${stack.layout.httpsPort}`,
      database: { urlEnv: "E2E_DATABASE_URL", dumpFrom: "compose-service" },
      // A slow machine (CI, two cores) needs longer than an idle one; a bound on a hang, not a measurement.
      timeouts: { commandSeconds: 300, healthSeconds: 90 },
      watch: { seconds: 10 },
      // Every backup the file takes is kept: the restore test puts back the one before v2.
      backup: { where: "server", retention: { last: 10, daily: 3, weekly: 1 } },
    },
  });
}, 900_000);

afterAll(async () => {
  await sshd?.stop();
  await stack?.teardown();
}, 300_000);

describe("deploy to a Docker Swarm through its manager over SSH", () => {
  it("setup makes the swarm's secrets (the admin token as given), compose/.env holds none; a second run changes nothing", async () => {
    const run = await shipyard(["setup"], { ADMIN_TOKEN: stack.layout.adminToken });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(`created: Swarm secrets (the swarm, stack ${stack.name})`);
    expect(run.stdout).toContain("already set up: compose/.env");
    const { stdout: made } = await execa("docker", [
      "secret",
      "ls",
      "--filter",
      `label=shipyard.stack=${stack.name}`,
      "--format",
      '{{.Label "shipyard.variable"}}',
    ]);
    expect(made.split("\n").sort()).toEqual(
      ["ADMIN_TOKEN", "DATABASE_URL", "POSTGRES_PASSWORD", "REDISCLI_AUTH", "REDIS_URL"].sort(),
    );
    const envFile = await readFile(stack.layout.envFile, "utf8");
    expect(envFile).not.toMatch(/^[A-Z_]*(PASSWORD|TOKEN)=./m);
    expect(run.stdout + run.stderr).not.toContain(stack.layout.adminToken);

    const again = await shipyard(["setup"], { ADMIN_TOKEN: stack.layout.adminToken });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain(`already set up: Swarm secrets (the swarm, stack ${stack.name})`);
    expect(again.stdout).toContain("nothing changed");
  }, 300_000);

  it("first release: the stack starts (migrate as a job), v1 serves through nginx, the ledger records it", async () => {
    const run = await deploy("v1", "v1");
    expect(run.stderr).not.toMatch(/FAIL/);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain("no backup: first release, no data yet");
    expect(await stack.servedRelease()).toBe("v1");
    expect(await stack.runningImages()).toEqual([stack.images.v1, stack.images.v1]);
    // The schema is there and the data services answer: an order takes stock.
    const product = await stack.edge("/products", {
      method: "POST",
      body: { sku: "SWARM-1", name: "Swarm", priceCents: 500, stock: 10 },
    });
    expect(product.status).toBe(201);
    const { id } = JSON.parse(product.text) as { id: number };
    const order = await stack.edge("/orders", { method: "POST", body: { productId: id, quantity: 3 } });
    expect(order.status).toBe(201);
    expect((await releases()).map((r) => [r.release, r.result])).toEqual([["v1", "succeeded"]]);
    // Every secret is the swarm's: no service's spec, which the manager shows anyone, holds one.
    const services = ["app", "migrate", "postgres", "redis", "nginx"].map((s) => `${stack.name}_${s}`);
    const { stdout: specs } = await execa("docker", ["service", "inspect", ...services]);
    expect(specs).not.toContain(stack.layout.adminToken);
    const environments = (
      JSON.parse(specs) as { Spec: { TaskTemplate: { ContainerSpec: { Env?: string[] } } } }[]
    ).flatMap((s) => s.Spec.TaskTemplate.ContainerSpec.Env ?? []);
    expect(
      environments.filter((v) =>
        /^(DATABASE_URL|REDIS_URL|ADMIN_TOKEN|POSTGRES_PASSWORD|REDISCLI_AUTH)=/.test(v),
      ),
    ).toEqual([]);
    for (const file of [
      "DATABASE_URL_FILE=/run/secrets/DATABASE_URL",
      "POSTGRES_PASSWORD_FILE=/run/secrets/POSTGRES_PASSWORD",
      "REDISCLI_AUTH_FILE=/run/secrets/REDISCLI_AUTH",
    ])
      expect(environments).toContain(file);
  }, 900_000);

  it("v1 to v2 under load: a verified backup on the manager first, no failed request, every task on v2", async () => {
    const { result: run, report, seen, strangers } = await underLoad(["v1", "v2"], () => deploy("v2", "v2"));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(strangers).toEqual([]);
    expect(seen.v2).toBeGreaterThan(0);
    expect(await stack.runningImages()).toEqual([stack.images.v2, stack.images.v2]);
    // The backup the release names is in the server's catalog, verified; the order placed on v1 is in it.
    const backupId = /verified backup before the release: (\S+)/.exec(run.stdout)?.[1];
    expect(backupId).toBeDefined();
    backupBeforeV2 = backupId;
    const backups = JSON.parse((await shipyard(["backups", "--json"])).stdout) as {
      result: { backups: { id: string; tables: { table: string; rows: number }[] }[] };
    };
    const entry = backups.result.backups.find((b) => b.id === backupId);
    expect(entry?.tables).toContainEqual({ table: "public.orders", rows: 1 });
    expect(JSON.parse((await stack.edge("/products")).text)).toMatchObject({
      items: [{ sku: "SWARM-1", stock: 7 }],
    });
  }, 900_000);

  it("a release that turns bad 10 s after it starts is caught through nginx once Swarm is done, and rolled back; v2 serves again", async () => {
    const run = await deploy("turns-bad", "bad");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/deploy of bad failed at "(watch|verify through nginx)"/);
    expect(run.stderr).toContain("undone: roll the app back (Swarm)");
    expect(run.stderr).toContain("release v2 serves, verified through nginx");
    expect(await stack.servedRelease()).toBe("v2");
    expect(await stack.runningImages()).toEqual([stack.images.v2, stack.images.v2]);
    expect((await releases()).map((r) => [r.release, r.result]).at(-1)).toEqual(["bad", "rolled-back"]);
    // `rollback` goes by the ledger: the release before v2, without running migrate.
  }, 900_000);

  it("a release that never gets healthy is rolled back by Swarm itself, v2 serving throughout", async () => {
    const { result: run, report, strangers } = await underLoad(["v2"], () => deploy("unhealthy", "never"));
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/Swarm rolled \S+_app back: a task of never failed \(.*unhealthy/);
    expect(report.failures).toEqual([]);
    expect(strangers).toEqual([]);
    expect(await stack.runningImages()).toEqual([stack.images.v2, stack.images.v2]);
    expect((await releases()).map((r) => [r.release, r.result]).at(-1)).toEqual(["never", "rolled-back"]);
  }, 900_000);

  it("rollback brings back v1 the same way, and status reads the swarm's ledger and health", async () => {
    const run = await shipyard(["rollback"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await stack.servedRelease()).toBe("v1");
    expect(await stack.runningImages()).toEqual([stack.images.v1, stack.images.v1]);
    const status = await shipyard(["status"]);
    expect(status.stdout).toMatch(/^health: ok /m);
    expect(status.stdout).toMatch(/^current release: v1 /m);
  }, 900_000);

  it("after a kill -9 once Swarm took the stack, the next deploy takes over the lock, has Swarm roll the app back and says so", async () => {
    const killed = runCli(["deploy", `--image=${stack.images.v2}`, "--release=v2-killed", "--env=swarm"], {
      cwd: REPO_ROOT,
      config,
      env: cliEnv(),
    });
    let stderr = "";
    killed.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    for (let i = 0; i < 600 && !/✓ stack deploy/.test(stderr); i++) await sleep(500);
    expect(stderr).toMatch(/✓ stack deploy/);
    killed.kill("SIGKILL");
    await killed;
    const status = await shipyard(["status"]);
    expect(status.stdout).toMatch(
      /INTERRUPTED: the release of v2-killed by e2e@test \(started [^)]+\) stopped mid-way; the app may run that unverified release/,
    );

    const next = await deploy("v1", "v1-again");
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/✓ take over the lock of e2e@test \(deploy v2-killed\)/);
    expect(next.stderr).toMatch(
      /✓ recover v2-killed: roll the app back if it runs it \([\d.]+ s\) rolled back by Swarm/,
    );
    expect(next.stderr).toMatch(/✓ recover v2-killed: clear journal/);
    expect(await stack.servedRelease()).toBe("v1-again");
    expect(await stack.runningImages()).toEqual([stack.images.v1, stack.images.v1]);
    const records = await releases();
    expect(records.slice(-2).map((r) => [r.release, r.result])).toEqual([
      ["v2-killed", "rolled-back"],
      ["v1-again", "succeeded"],
    ]);
    expect(records.at(-2)?.note).toMatch(/interrupted \(its CLI stopped mid-way\); undone by the next run/);
  }, 900_000);

  it("restore puts a verified backup back in Postgres's task, a safety backup taken first", async () => {
    const products = async () =>
      (JSON.parse((await stack.edge("/products")).text) as { items: { id: number; stock: number }[] }).items;
    const [product] = await products();
    const order = await stack.edge("/orders", {
      method: "POST",
      body: { productId: product?.id, quantity: 2 },
    });
    expect(order.status).toBe(201);
    expect((await products())[0]?.stock).toBe(5);
    // The backup v2's release took, when one order had been placed.
    const run = await shipyard(["restore", `--backup=${backupBeforeV2}`]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain("every table has its recorded row count");
    // The app caches reads: the count is asked of the database through an order that must see stock 7.
    const afterwards = await stack.edge("/orders", {
      method: "POST",
      body: { productId: product?.id, quantity: 7 },
    });
    expect(afterwards.status).toBe(201);
  }, 900_000);

  it("logs and exec reach the stack's services through the manager", async () => {
    const logs = await shipyard(["logs", "--service=app", "--tail=50", "--json"]);
    expect(logs.exitCode, logs.stderr).toBe(0);
    const { stdout } = (JSON.parse(logs.stdout) as { result: { stdout: string[] } }).result;
    expect(stdout.some((line) => line.includes('"release":"v1-again"'))).toBe(true);
    // The order restored with the backup and the one placed after it.
    const exec = await shipyard([
      "exec",
      "--service=postgres",
      "--",
      "psql",
      "-U",
      "app",
      "-d",
      "app",
      "-tAc",
      "SELECT count(*) FROM orders",
    ]);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expect(exec.stdout.trim()).toBe("2");
  }, 300_000);
});
