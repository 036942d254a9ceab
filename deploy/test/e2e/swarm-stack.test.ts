/**
 * The compose file on Docker Swarm, the first part of a Swarm target: compose/compose.yaml rendered by
 * compose for a release (renderCompose), made a stack file (stackFile), deployed with `docker stack deploy`
 * (stackDeploy) on a one-node swarm in the test engine, nginx in front with the repository's configuration
 * and the Swarm upstream file (swarmUpstreamConf). Swarm itself updates and rolls back; these tests check
 * what users see through nginx while it does: every answer from a release that should serve, none failed.
 */

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { detectComposeCli } from "../../../test/docker/compose-cli.js";
import { buildAppImage, ensureImages } from "../../../test/docker/standin-images.js";
import { freePort } from "../../../test/harness/network.js";
import { type Reply, request } from "../../../test/stack/support/https-client.js";
import { swarmUpstreamConf } from "../../src/commands/nginx.js";
import {
  parseUpdateStatus,
  renderCompose,
  stackDeploy,
  stackRemove,
  type UpdateStatus,
  updateSettled,
  updateStatus,
} from "../../src/commands/swarm.js";
import type { Environment } from "../../src/config/environments.js";
import { localRunner } from "../../src/runner.js";
import { type RenderedCompose, stackFile } from "../../src/swarm/stack-file.js";
import { localEnvironment } from "../support/environment.js";
import { startLoad } from "./support/load.js";
import { NODE_SAMPLE, publishVariants, REPO_ROOT, startRegistry } from "./support/target.js";

const STACK = `shipyard-swarm-${randomBytes(3).toString("hex")}`;
const APP = `${STACK}_app`;
const REPLICAS = 2;
const DATA_LABEL = "shipyard.data";
// Each release's variant of the Node sample: v1 and v2 serve; `unhealthy` never passes its healthcheck.
const VARIANTS = ["v1", "v2", "unhealthy"] as const;
/** Generous for a slow machine: a deadline is a bound on a hang, not a measurement. */
const SETTLE_MS = 300_000;

const runner = localRunner(300);
let dir = "";
let registry: ChildProcess | undefined;
let swarmStarted = false;
let environment: Environment;
let images: Record<string, string> = {};
let httpsPort = 0;
let adminToken = "";
let ca: Buffer;

const edge = (pathname: string, init: { method?: string; body?: unknown } = {}): Promise<Reply> =>
  request(`https://127.0.0.1:${httpsPort}${pathname}`, {
    ca,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.method ? { method: init.method } : {}),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

/** The release /version names through nginx, or what came instead. */
async function servedRelease(): Promise<string> {
  const reply = await edge("/version");
  if (reply.status !== 200) return `HTTP ${reply.status}`;
  return (JSON.parse(reply.text) as { release?: string }).release ?? reply.text.slice(0, 80);
}

/** A release as the CLI will ship it: compose renders the file, stackFile makes it Swarm's, the stack deploys. */
async function deployStack(release: string, variant: (typeof VARIANTS)[number]): Promise<void> {
  const rendered = await runner.run(renderCompose(environment, images[variant] as string, release));
  const stack = stackFile(parse(rendered.stdout) as RenderedCompose, {
    app: { service: "app", replicas: REPLICAS, watchSeconds: environment.watch.seconds },
    jobs: ["migrate"],
    dataLabel: DATA_LABEL,
  });
  await runner.run(stackDeploy(STACK, stack));
}

/** Polls until Swarm is done with the app's update; answers how it ended. */
async function settledUpdate(): Promise<UpdateStatus | null> {
  const deadline = Date.now() + SETTLE_MS;
  // Swarm takes a moment to mark the update as started: a status read at once may be the last one's.
  await sleep(2_000);
  for (;;) {
    const status = parseUpdateStatus((await runner.run(updateStatus(APP))).stdout);
    if (updateSettled(status)) return status;
    if (Date.now() > deadline)
      throw new Error(`the update of ${APP} did not settle: ${JSON.stringify(status)}`);
    await sleep(1_000);
  }
}

async function untilServed(release: string): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  let seen = "";
  while (Date.now() < deadline) {
    seen = await servedRelease().catch((error: Error) => error.message);
    if (seen === release) return;
    await sleep(1_000);
  }
  throw new Error(`release ${release} never served through nginx; last seen: ${seen}`);
}

/** The app's running tasks and the image each runs. */
async function runningImages(): Promise<string[]> {
  const { stdout } = await execa("docker", [
    "service",
    "ps",
    APP,
    "--filter",
    "desired-state=running",
    "--format",
    "{{.Image}}",
  ]);
  return stdout.split("\n").filter(Boolean).sort();
}

/**
 * Load while `during` runs, as the deploy e2e makes it: HTTPS requests to /healthz through nginx (which
 * its rate limit leaves alone), each on a new connection. Beside it, /version five times a second (under
 * that limit): every answer must name one of `serving`.
 */
async function underLoad(serving: readonly string[], during: () => Promise<void>) {
  const releases = new Map<string, number>();
  const load = startLoad(() => edge("/healthz"));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const release = await servedRelease().catch((error: Error) => error.message);
      releases.set(release, (releases.get(release) ?? 0) + 1);
      await sleep(200);
    }
  })();
  try {
    await during();
  } finally {
    // A last stretch after Swarm is done: what it left behind must serve too.
    await sleep(2_000);
    sampling = false;
    await sampler;
  }
  const seen = Object.fromEntries(releases);
  return {
    report: await load.stop(),
    seen,
    strangers: Object.keys(seen).filter((r) => !serving.includes(r)),
  };
}

async function teardown(): Promise<void> {
  if (swarmStarted) {
    await runner.run(stackRemove(STACK)).catch(() => undefined);
    // stack rm returns before the containers are gone, and leaves a finished job's; volumes go after them.
    const containers = async () =>
      (await execa("docker", ["ps", "-aq", "--filter", `name=${STACK}_`])).stdout.split("\n").filter(Boolean);
    // Swarm stops the tasks itself; what is left once none runs (a finished job's containers) goes here.
    const running = async () =>
      (await execa("docker", ["ps", "-q", "--filter", `name=${STACK}_`])).stdout.trim() !== "";
    for (let i = 0; i < 60 && (await running()); i++) await sleep(1_000);
    const left = await containers();
    if (left.length > 0) await execa("docker", ["rm", "--force", ...left], { reject: false });
    const { stdout: volumes } = await execa("docker", ["volume", "ls", "-q", "--filter", `name=${STACK}_`]);
    if (volumes.trim())
      await execa("docker", ["volume", "rm", ...volumes.trim().split("\n")], { reject: false });
    await execa("docker", ["swarm", "leave", "--force"], { reject: false });
    // Made by `swarm init` and left by `swarm leave`.
    await execa("docker", ["network", "rm", "docker_gwbridge"], { reject: false });
  }
  await execa("docker", ["image", "rm", "--force", ...Object.values(images)], { reject: false });
  registry?.kill("SIGTERM");
  if (dir) await rm(dir, { recursive: true, force: true });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), `${STACK}-`));
  try {
    await execa("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    swarmStarted = true;
    const { stdout: node } = await execa("docker", ["info", "--format", "{{.Swarm.NodeID}}"]);
    await execa("docker", ["node", "update", "--label-add", `${DATA_LABEL}=true`, node.trim()]);

    await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE"]);
    const base = "shipyard-app:swarm-stack";
    await buildAppImage(base);
    const registryPort = await freePort();
    registry = await startRegistry(dir, registryPort);
    const variants = Object.fromEntries(VARIANTS.map((name) => [name, NODE_SAMPLE.variants[name] as string]));
    images = await publishVariants(`127.0.0.1:${registryPort}/${STACK}`, base, variants, NODE_SAMPLE.files);

    // The layout compose.yaml expects (compose/ beside nginx/), with the upstream file a Swarm target writes.
    const composeDir = path.join(dir, "compose");
    await mkdir(composeDir);
    await cp(path.join(REPO_ROOT, "compose/compose.yaml"), path.join(composeDir, "compose.yaml"));
    await cp(path.join(REPO_ROOT, "nginx"), path.join(dir, "nginx"), { recursive: true });
    await writeFile(path.join(dir, "nginx/conf.d/upstream.conf"), swarmUpstreamConf("app", 3000));
    await execa(path.join(REPO_ROOT, "nginx/generate-self-signed-cert.sh"), [
      path.join(composeDir, "certs"),
      "localhost",
    ]);
    ca = await readFile(path.join(composeDir, "certs/fullchain.pem"));
    httpsPort = await freePort();
    adminToken = randomBytes(24).toString("hex");
    await writeFile(
      path.join(composeDir, ".env"),
      [
        `HTTP_PORT=${await freePort()}`,
        `HTTPS_PORT=${httpsPort}`,
        `POSTGRES_PASSWORD=${randomBytes(24).toString("hex")}`,
        `REDIS_PASSWORD=${randomBytes(24).toString("hex")}`,
        `ADMIN_TOKEN=${adminToken}`,
        `GRAFANA_ADMIN_PASSWORD=${randomBytes(24).toString("hex")}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const cli = await detectComposeCli();
    const local = localEnvironment(dir);
    environment = {
      ...local,
      compose: {
        ...local.compose,
        project: STACK,
        directory: composeDir,
        cli: cli.version === "v1" ? "docker-compose" : "docker compose",
      },
      watch: { ...local.watch, seconds: 10 },
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}, 900_000);

afterAll(teardown, 300_000);

describe("the compose stack on Docker Swarm", () => {
  it("starts on one node: migrations as a job, the app's replicas behind nginx over HTTPS", async () => {
    await deployStack("v1", "v1");
    await untilServed("v1");
    expect(await runningImages()).toEqual([images.v1, images.v1]);
    // The schema is there (migrate ran) and the data services answer: an order takes stock.
    const product = await edge("/products", {
      method: "POST",
      body: { sku: "SWARM-1", name: "Swarm", priceCents: 500, stock: 10 },
    });
    expect(product.status).toBe(201);
    const { id } = JSON.parse(product.text) as { id: number };
    const order = await edge("/orders", { method: "POST", body: { productId: id, quantity: 3 } });
    expect(order.status).toBe(201);
    expect(JSON.parse((await edge(`/products/${id}`)).text)).toMatchObject({ stock: 7 });
  }, 600_000);

  it("updates to v2 one new task first under load: no failed request, every task on v2", async () => {
    const { report, seen, strangers } = await underLoad(["v1", "v2"], async () => {
      await deployStack("v2", "v2");
      expect(await settledUpdate()).toMatchObject({ state: "completed" });
      await untilServed("v2");
    });
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(strangers).toEqual([]);
    expect(seen.v2).toBeGreaterThan(0);
    expect(await runningImages()).toEqual([images.v2, images.v2]);
  }, 600_000);

  it("rolls back a release that never becomes healthy, v2 serving throughout", async () => {
    const { report, strangers } = await underLoad(["v2"], async () => {
      await deployStack("v3", "unhealthy");
      expect(await settledUpdate()).toMatchObject({ state: "rollback_completed" });
    });
    expect(report.failures).toEqual([]);
    expect(strangers).toEqual([]);
    expect(await servedRelease()).toBe("v2");
    expect(await runningImages()).toEqual([images.v2, images.v2]);
  }, 600_000);
});
