/**
 * `target.kind: swarm` on two nodes (support/two-nodes.ts): a manager that keeps the data and a worker,
 * each a dockerd in its own network namespace, the app's images in a registry both pull from. The CLI
 * reaches the manager over SSH as users do; users reach nginx on the manager's address. The app runs a
 * task on each node, so half the requests cross the overlay network to the worker.
 */

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectComposeCli } from "../../../test/docker/compose-cli.js";
import { buildAppImage, ensureImages } from "../../../test/docker/standin-images.js";
import { freePort } from "../../../test/harness/network.js";
import { type Reply, request } from "../../../test/stack/support/https-client.js";
import { runCli } from "../support/cli.js";
import { writeEnvironmentsFile } from "../support/environment.js";
import { startSshServer, type TestSshServer } from "../support/ssh-server.js";
import { startLoad } from "./support/load.js";
import {
  layOutServer,
  NODE_SAMPLE,
  publishVariants,
  REPO_ROOT,
  type ServerLayout,
  startRegistry,
} from "./support/target.js";
import { copyImages, startTwoNodeSwarm, type TwoNodeSwarm } from "./support/two-nodes.js";

const DATA_LABEL = "shipyard.data";
const STAND_INS = ["postgres:15-bookworm", "redis:7-bookworm", "nginx:stable"];

let swarm: TwoNodeSwarm;
let registry: ChildProcess | undefined;
let sshd: TestSshServer | undefined;
let dir: string;
let layout: ServerLayout;
let config: string;
let images: Record<string, string>;
let ca: Buffer;
const stack = `shipyard-two-${randomBytes(3).toString("hex")}`;

const edge = (pathname: string): Promise<Reply> =>
  request(`https://${swarm.manager.address}:${layout.httpsPort}${pathname}`, { ca });

const shipyard = async (args: readonly string[]) => {
  const run = await runCli([...args, "--env=swarm"], {
    cwd: REPO_ROOT,
    config,
    env: {
      SHIPYARD_WHO: "e2e@test",
      SHIPYARD_SSH_KEY_FILE: (sshd as TestSshServer).clientKeyFile,
      NODE_EXTRA_CA_CERTS: path.join(layout.composeDir, "certs/fullchain.pem"),
    },
  });
  return { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), stderr: String(run.stderr) };
};
const deploy = (variant: string, release: string) =>
  shipyard(["deploy", `--image=${images[variant]}`, `--release=${release}`]);

/** The running tasks of the stack's `service` on `node`, as `docker node ps` lists them. */
const tasksOn = async (nodeId: string, service: string) =>
  (
    await swarm.docker(swarm.manager, [
      "node",
      "ps",
      nodeId,
      "--filter",
      "desired-state=running",
      "--format",
      "{{.Name}} {{.Image}}",
    ])
  )
    .split("\n")
    .filter((line) => line.startsWith(`${stack}_${service}.`))
    .map((line) => line.split(" ")[1]);

beforeAll(async () => {
  swarm = await startTwoNodeSwarm(DATA_LABEL);
  dir = await mkdtemp(path.join(tmpdir(), `${stack}-`));
  // Both nodes pull the app by digest from this machine's address on their bridge.
  const registryPort = await freePort();
  registry = await startRegistry(dir, registryPort, swarm.hostAddress);
  await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE"]);
  const base = "shipyard-app:swarm-two-nodes";
  await buildAppImage(base);
  // Postgres, Redis and nginx run on the data node only; the app's base is built on from there.
  await copyImages([...STAND_INS, base], swarm.manager.host);
  const variants = { v1: NODE_SAMPLE.variants.v1 as string, v2: NODE_SAMPLE.variants.v2 as string };
  images = await publishVariants(
    `${swarm.hostAddress}:${registryPort}/${stack}`,
    base,
    variants,
    NODE_SAMPLE.files,
    swarm.manager.host,
  );

  layout = await layOutServer(dir, { secrets: false });
  // Users reach nginx at the manager's address: the certificate names it.
  await execa(path.join(REPO_ROOT, "nginx/generate-self-signed-cert.sh"), [
    path.join(layout.composeDir, "certs"),
    "localhost",
    swarm.manager.address,
  ]);
  ca = await readFile(path.join(layout.composeDir, "certs/fullchain.pem"));
  sshd = await startSshServer({ ownHome: true, dockerHost: swarm.manager.host });
  const { user, port, hostKey } = sshd.target;
  const cli = await detectComposeCli();
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    swarm: {
      target: { kind: "swarm", host: "127.0.0.1", user, port, hostKey, replicas: 2, dataLabel: DATA_LABEL },
      compose: {
        project: stack,
        directory: layout.composeDir,
        cli: cli.version === "v1" ? "docker-compose" : "docker compose",
        nginxConfDirectory: path.join(layout.nginxDir, "conf.d"),
      },
      stateDirectory: path.join(dir, "state"),
      publicUrl: `https://${swarm.manager.address}:${layout.httpsPort}`,
      database: { urlEnv: "E2E_DATABASE_URL", dumpFrom: "compose-service" },
      timeouts: { commandSeconds: 300, healthSeconds: 90 },
      watch: { seconds: 6 },
      backup: { where: "server", retention: { daily: 3, weekly: 1 } },
    },
  });
}, 900_000);

afterAll(async () => {
  await sshd?.stop();
  registry?.kill("SIGTERM");
  await swarm?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 300_000);

describe("a Swarm of two nodes", () => {
  it("runs an app task on each node behind nginx on the data node, and updates both under load with no failed request", async () => {
    const setup = await shipyard(["setup"]);
    expect(setup.exitCode, setup.stderr).toBe(0);
    expect(setup.stdout).toContain("created: Swarm secrets");
    const first = await deploy("v1", "v1");
    expect(first.exitCode, first.stderr).toBe(0);
    // The data services on the labelled manager; the app on both nodes.
    for (const service of ["postgres", "redis", "nginx"])
      expect(await tasksOn(swarm.manager.nodeId, service), service).toHaveLength(1);
    expect(await tasksOn(swarm.worker.nodeId, "postgres")).toEqual([]);
    expect(await tasksOn(swarm.manager.nodeId, "app")).toEqual([images.v1]);
    expect(await tasksOn(swarm.worker.nodeId, "app")).toEqual([images.v1]);

    const load = startLoad(() => edge("/healthz"));
    const update = await deploy("v2", "v2");
    const report = await load.stop();
    expect(update.exitCode, update.stderr).toBe(0);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    // Both tasks on v2, wherever Swarm put them: it places each new task when it starts it, and does not
    // move tasks afterwards, so an update may leave both on one node.
    const running = [
      ...(await tasksOn(swarm.manager.nodeId, "app")),
      ...(await tasksOn(swarm.worker.nodeId, "app")),
    ];
    expect(running).toEqual([images.v2, images.v2]);
    expect(JSON.parse((await edge("/version")).text)).toMatchObject({ release: "v2" });
  }, 900_000);
});
