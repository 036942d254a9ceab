/**
 * The compose stack on a one-node Docker Swarm, for the Swarm e2e and its benchmark: a swarm started in the
 * engine (and left afterwards), the Node sample's variants in a registry on 127.0.0.1, compose.yaml and
 * nginx/ laid out as on a server with the Swarm upstream file and a compose/.env with no secret (the swarm
 * keeps them). The e2e deploys through the CLI, which `setup` prepares; the benchmark calls `deploy` here,
 * which does what a Swarm target does with the same commands: the swarm's secrets made once as setup makes
 * them, compose renders the file (renderCompose), stackFile makes it Swarm's, withSwarmSecrets names the
 * secrets, `docker stack deploy` takes it (stackDeploy).
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { parse } from "yaml";
import { detectComposeCli } from "../../../../test/docker/compose-cli.js";
import { buildAppImage, ensureImages } from "../../../../test/docker/standin-images.js";
import { freePort } from "../../../../test/harness/network.js";
import { type Reply, request } from "../../../../test/stack/support/https-client.js";
import { swarmUpstreamConf } from "../../../src/commands/nginx.js";
import {
  parseUpdateStatus,
  renderCompose,
  stackDeploy,
  stackRemove,
  stackSecrets,
  type UpdateStatus,
  updateSettled,
  updateStatus,
} from "../../../src/commands/swarm.js";
import { localRunner } from "../../../src/runner.js";
import { makeSwarmSecrets } from "../../../src/setup/setup.js";
import { secretValues } from "../../../src/setup/stack-env.js";
import { newestSecrets, secretVariables, withSwarmSecrets } from "../../../src/swarm/secrets.js";
import { type RenderedCompose, stackFile } from "../../../src/swarm/stack-file.js";
import { localEnvironment } from "../../support/environment.js";
import { layOutServer, NODE_SAMPLE, publishVariants, type ServerLayout, startRegistry } from "./target.js";

const DATA_LABEL = "shipyard.data";
/** Generous for a slow machine: a deadline is a bound on a hang, not a measurement. */
const SETTLE_MS = 300_000;

export interface SwarmStackOptions {
  prefix: string;
  /** Names of the Node sample's variants (NODE_SAMPLE.variants) to publish. */
  variants: readonly string[];
  replicas: number;
  watchSeconds: number;
}

export interface SwarmStack {
  readonly name: string;
  /** The scratch directory the server's files are laid out in. */
  readonly dir: string;
  readonly layout: ServerLayout;
  /** The compose CLI the server renders with, as environments.yaml names it. */
  readonly composeCli: "docker compose" | "docker-compose";
  /** The node label the data node carries. */
  readonly dataLabel: string;
  /** name@sha256:… in the registry, per variant. */
  readonly images: Record<string, string>;
  edge(pathname: string, init?: { method?: string; body?: unknown }): Promise<Reply>;
  /** The release /version names through nginx, or what came instead. */
  servedRelease(): Promise<string>;
  /** A release as a Swarm target ships it; returns once `docker stack deploy` has taken it. */
  deploy(release: string, variant: string): Promise<void>;
  /** Polls until Swarm is done with the app's update; answers how it ended. */
  settledUpdate(): Promise<UpdateStatus | null>;
  untilServed(release: string): Promise<void>;
  /** The image of each running app task, sorted. */
  runningImages(): Promise<string[]>;
  teardown(): Promise<void>;
}

export async function startSwarmStack(options: SwarmStackOptions): Promise<SwarmStack> {
  const name = `${options.prefix}-${randomBytes(3).toString("hex")}`;
  const app = `${name}_app`;
  const runner = localRunner(300);
  const dir = await mkdtemp(path.join(tmpdir(), `${name}-`));
  let registry: ChildProcess | undefined;
  let swarmStarted = false;
  let images: Record<string, string> = {};
  const registryPort = await freePort();
  const repository = `127.0.0.1:${registryPort}/${name}`;

  const teardown = async () => {
    if (swarmStarted) {
      await runner.run(stackRemove(name)).catch(() => undefined);
      // Swarm stops the tasks itself; what is left once none runs (a finished job's containers) goes here.
      const containers = async (all: boolean) =>
        (await execa("docker", ["ps", "-q", ...(all ? ["-a"] : []), "--filter", `name=${name}_`])).stdout
          .split("\n")
          .filter(Boolean);
      for (let i = 0; i < 60 && (await containers(false)).length > 0; i++) await sleep(1_000);
      const left = await containers(true);
      if (left.length > 0) await execa("docker", ["rm", "--force", ...left], { reject: false });
      const { stdout: volumes } = await execa("docker", ["volume", "ls", "-q", "--filter", `name=${name}_`]);
      if (volumes.trim())
        await execa("docker", ["volume", "rm", ...volumes.trim().split("\n")], { reject: false });
      await execa("docker", ["swarm", "leave", "--force"], { reject: false });
      // Made by `swarm init` and left by `swarm leave`.
      await execa("docker", ["network", "rm", "docker_gwbridge"], { reject: false });
    }
    // By digest and by the tags publishVariants pushed them with.
    const tags = Object.keys(images).map((variant) => `${repository}:${variant}`);
    await execa("docker", ["image", "rm", "--force", ...tags, ...Object.values(images)], { reject: false });
    registry?.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await execa("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    swarmStarted = true;
    const { stdout: node } = await execa("docker", ["info", "--format", "{{.Swarm.NodeID}}"]);
    await execa("docker", ["node", "update", "--label-add", `${DATA_LABEL}=true`, node.trim()]);

    await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE"]);
    const base = `shipyard-app:${options.prefix}`;
    await buildAppImage(base);
    registry = await startRegistry(dir, registryPort);
    const variants = Object.fromEntries(
      options.variants.map((variant) => [variant, NODE_SAMPLE.variants[variant] as string]),
    );
    images = await publishVariants(repository, base, variants, NODE_SAMPLE.files);

    // A server's files, with the upstream file a Swarm target writes. BIND_ADDRESS stays unused: Swarm
    // publishes on every interface (stack-file.ts).
    const layout = await layOutServer(dir, { secrets: false });
    const { composeDir, nginxDir, httpsPort, adminToken } = layout;
    await writeFile(path.join(nginxDir, "conf.d/upstream.conf"), swarmUpstreamConf("app", 3000));
    const ca = await readFile(path.join(composeDir, "certs/fullchain.pem"));
    const cli = await detectComposeCli();
    const local = localEnvironment(dir);
    const environment = {
      ...local,
      compose: {
        ...local.compose,
        project: name,
        directory: composeDir,
        cli: cli.version === "v1" ? ("docker-compose" as const) : ("docker compose" as const),
      },
      watch: { ...local.watch, seconds: options.watchSeconds },
    };

    const edge: SwarmStack["edge"] = (pathname, init = {}) =>
      request(`https://127.0.0.1:${httpsPort}${pathname}`, {
        ca,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(init.method ? { method: init.method } : {}),
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    const servedRelease = async () => {
      const reply = await edge("/version");
      if (reply.status !== 200) return `HTTP ${reply.status}`;
      return (JSON.parse(reply.text) as { release?: string }).release ?? reply.text.slice(0, 80);
    };

    return {
      name,
      dir,
      layout,
      composeCli: environment.compose.cli,
      dataLabel: DATA_LABEL,
      images,
      edge,
      servedRelease,
      async deploy(release, variant) {
        const image = images[variant];
        if (!image) throw new Error(`variant ${variant} was not published`);
        const variables = secretVariables(environment.app.secrets);
        let secrets = newestSecrets((await runner.run(stackSecrets(name))).stdout);
        if (Object.keys(secrets).length === 0) {
          await makeSwarmSecrets(runner, environment, secretValues({ ADMIN_TOKEN: adminToken }));
          secrets = newestSecrets((await runner.run(stackSecrets(name))).stdout);
        }
        const rendered = await runner.run(renderCompose(environment, image, release));
        const stack = stackFile(parse(rendered.stdout) as RenderedCompose, {
          app: { service: "app", replicas: options.replicas, monitorSeconds: options.watchSeconds },
          jobs: ["migrate"],
          dataLabel: DATA_LABEL,
        });
        const withSecrets = withSwarmSecrets(stack, variables, secrets, { stack: name, setup: "setup" });
        await runner.run(stackDeploy(name, withSecrets));
      },
      async settledUpdate() {
        const deadline = Date.now() + SETTLE_MS;
        // Swarm takes a moment to mark the update as started: a status read at once may be the last one's.
        await sleep(2_000);
        for (;;) {
          const status = parseUpdateStatus((await runner.run(updateStatus(app))).stdout);
          if (updateSettled(status)) return status;
          if (Date.now() > deadline)
            throw new Error(`the update of ${app} did not settle: ${JSON.stringify(status)}`);
          await sleep(1_000);
        }
      },
      async untilServed(release) {
        const deadline = Date.now() + SETTLE_MS;
        let seen = "";
        while (Date.now() < deadline) {
          seen = await servedRelease().catch((error: Error) => error.message);
          if (seen === release) return;
          await sleep(1_000);
        }
        throw new Error(`release ${release} never served through nginx; last seen: ${seen}`);
      },
      async runningImages() {
        const { stdout } = await execa("docker", [
          "service",
          "ps",
          app,
          "--filter",
          "desired-state=running",
          "--format",
          "{{.Image}}",
        ]);
        return stdout.split("\n").filter(Boolean).sort();
      },
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}
