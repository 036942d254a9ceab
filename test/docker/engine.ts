/**
 * The Docker engine the Docker-based tests run against: by default a `dockerd` of their own that starts
 * empty (its own data root, exec root, pidfile, socket and bridge in a temporary directory, all removed
 * afterwards), so a warm cache on the machine running the tests can never hide a missing build step.
 * `SHIPYARD_TEST_DOCKER_HOST=unix:///…` runs them against an engine you already have instead.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { BASE_TAG, ensureBaseImage } from "./standin-images.js";

export interface TestEngine {
  /** `unix:///…/docker.sock`: what DOCKER_HOST must say for every docker and compose call of the run. */
  readonly host: string;
  /** Whether this run started the engine (and so owns everything in it). */
  readonly fresh: boolean;
  /** Containers, networks and volumes still in the engine: what the tests left behind. */
  leftovers(): Promise<string[]>;
  /** Stops the engine this run started and removes all of its files; leaves an engine it was given alone. */
  stop(): Promise<void>;
}

async function installed(file: string): Promise<boolean> {
  const result = await execa("sh", ["-c", 'command -v "$1"', "sh", file], { reject: false });
  return result.exitCode === 0;
}

async function aptInstall(packages: string[]): Promise<void> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const first = await execa("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
    env,
    reject: false,
  });
  if (first.exitCode === 0) return;
  // A fresh machine may not have package lists yet.
  await execa("apt-get", ["update"], { env });
  await execa("apt-get", ["install", "-y", "--no-install-recommends", ...packages], { env });
}

/** Installs the Debian packages the Docker tests drive: the engine, Compose v1, debootstrap, iproute2. */
export async function ensureDockerTools(): Promise<void> {
  const missing: string[] = [];
  if (!(await installed("dockerd"))) missing.push("docker.io");
  const composePlugin = (await execa("docker", ["compose", "version"], { reject: false })).exitCode === 0;
  if (!composePlugin && !(await installed("docker-compose"))) missing.push("docker-compose");
  if (!(await installed("debootstrap"))) missing.push("debootstrap");
  if (!(await installed("ip"))) missing.push("iproute2");
  if (missing.length > 0) await aptInstall(missing);
}

async function answers(host: string, timeoutMs: number): Promise<boolean> {
  const result = await execa("docker", ["info", "--format", "{{.ServerVersion}}"], {
    env: { DOCKER_HOST: host },
    reject: false,
    timeout: timeoutMs,
  });
  return result.exitCode === 0;
}

async function inEngine(host: string, args: string[]): Promise<string> {
  const { stdout } = await execa("docker", args, { env: { DOCKER_HOST: host } });
  return stdout;
}

async function listResources(host: string): Promise<string[]> {
  const [containers, networks, volumes] = await Promise.all([
    inEngine(host, ["ps", "--all", "--format", "container {{.Names}} ({{.Image}}, {{.Status}})"]),
    inEngine(host, ["network", "ls", "--format", "network {{.Name}}"]),
    inEngine(host, ["volume", "ls", "--format", "volume {{.Name}}"]),
  ]);
  const builtIn = new Set(["network bridge", "network host", "network none"]);
  return [containers, networks, volumes]
    .flatMap((list) => list.split("\n"))
    .filter((line) => line !== "" && !builtIn.has(line));
}

/** A /24 for the engine's own bridge that no route on this machine uses yet. */
async function freeBridgeSubnet(): Promise<string> {
  const { stdout } = await execa("ip", ["-4", "route", "show"]);
  for (let third = 200; third < 250; third++) {
    const prefix = `172.30.${third}.`;
    if (!stdout.includes(prefix)) return `${prefix}1/24`;
  }
  throw new Error("no free 172.30.200-249.0/24 subnet for the test engine's bridge (see `ip -4 route`)");
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

interface FreshEngineOptions {
  /** Where its compose networks come from (a /17 cut into /24s). */
  addressPool?: string;
}

/**
 * Starts an empty engine beside whatever else runs here. Its bridge is its own (an engine that reuses a
 * `docker0` left behind by another one can come up without it, then fails every build with "could not find
 * bridge docker0"), and the engine must answer and see that bridge before it is handed out.
 */
async function startFreshEngine(options: FreshEngineOptions = {}): Promise<TestEngine> {
  const addressPool = options.addressPool ?? "172.30.0.0/17";
  await ensureDockerTools();
  const dir = await mkdtemp("/var/tmp/shipyard-engine-");
  const bridge = `shipyd${path
    .basename(dir)
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "0")}`;
  const host = `unix://${dir}/docker.sock`;
  const logFile = path.join(dir, "dockerd.log");
  let daemon: ReturnType<typeof spawn> | undefined;
  let log: number | undefined;

  const removeEverything = async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise<void>((resolve) => daemon?.once("exit", () => resolve()));
      daemon.kill("SIGTERM");
      if ((await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)])) === false) {
        daemon.kill("SIGKILL");
        await exited;
      }
    }
    if (log !== undefined) closeSync(log);
    // A killed engine can leave its layers and network namespaces mounted under its directories.
    const { stdout: mounts } = await execa("findmnt", ["-rn", "-o", "TARGET"], { reject: false });
    for (const target of mounts
      .split("\n")
      .filter((m) => m.startsWith(dir))
      .reverse()) {
      await execa("umount", ["-l", target], { reject: false });
    }
    await execa("ip", ["link", "delete", bridge], { reject: false });
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await execa("ip", ["link", "add", "name", bridge, "type", "bridge"]);
    await execa("ip", ["addr", "add", await freeBridgeSubnet(), "dev", bridge]);
    await execa("ip", ["link", "set", bridge, "up"]);
    log = openSync(logFile, "a");
    daemon = spawn(
      // Dies with the test runner even if the runner is killed (parent-death signal).
      "setpriv",
      [
        "--pdeathsig=TERM",
        "--",
        "dockerd",
        `--data-root=${dir}/data`,
        `--exec-root=${dir}/exec`,
        `--pidfile=${dir}/docker.pid`,
        `--host=${host}`,
        `--bridge=${bridge}`,
        // Compose networks from a pool of its own, so they never overlap another engine's on this machine.
        `--default-address-pool=base=${addressPool},size=24`,
        "--log-level=warn",
      ],
      { stdio: ["ignore", log, log] },
    );
    // Bounded: about a minute, however slow the machine; a daemon that exits fails at once.
    for (let attempt = 0; attempt < 120 && daemon.exitCode === null; attempt++) {
      if (await answers(host, 10_000)) break;
      await sleep(500);
    }
    if (!(await answers(host, 10_000))) {
      throw new Error(
        `the test's dockerd did not answer on ${host} within 60 s:\n${await tail(logFile, 20)}`,
      );
    }
    const bridgeName = (
      await inEngine(host, [
        "network",
        "inspect",
        "--format",
        '{{index .Options "com.docker.network.bridge.name"}}',
        "bridge",
      ])
    ).trim();
    if (bridgeName !== bridge) {
      throw new Error(
        `the test's dockerd came up without its bridge ${bridge} (its default network uses "${bridgeName}"):\n${await tail(logFile, 20)}`,
      );
    }
  } catch (error) {
    await removeEverything();
    throw error;
  }

  return { host, fresh: true, leftovers: () => listResources(host), stop: removeEverything };
}

/**
 * A second fresh engine beside the run's, for a test that needs a host of its own (the journey's server):
 * compose networks from another pool, so the two engines never route the same subnet.
 */
export const startSecondEngine = () => startFreshEngine({ addressPool: "172.31.0.0/17" });

/** The engine of this run: the one SHIPYARD_TEST_DOCKER_HOST names, or a fresh one. */
export async function startTestEngine(env: NodeJS.ProcessEnv = process.env): Promise<TestEngine> {
  const given = env.SHIPYARD_TEST_DOCKER_HOST;
  if (!given) return startFreshEngine();
  await ensureDockerTools();
  if (!(await answers(given, 20_000))) {
    throw new Error(
      `SHIPYARD_TEST_DOCKER_HOST=${given} does not answer \`docker info\`; start it or unset the variable`,
    );
  }
  // Someone else's engine: only what appeared during the run is ours.
  const before = new Set(await listResources(given));
  return {
    host: given,
    fresh: false,
    leftovers: async () => (await listResources(given)).filter((item) => !before.has(item)),
    stop: async () => {},
  };
}

export interface DockerTestSession {
  readonly engine: TestEngine;
  /** Fails, naming them, when the run left containers, networks or volumes; then stops the engine. */
  close(): Promise<void>;
}

/**
 * What every Docker test run and benchmark starts with: the engine, DOCKER_HOST pointing at it for this
 * process and its children, the Debian base every stand-in builds on imported once, and proof that a
 * container starts on its default network.
 */
export async function openDockerTestSession(): Promise<DockerTestSession> {
  const engine = await startTestEngine();
  try {
    process.env.DOCKER_HOST = engine.host;
    await ensureBaseImage();
    await execa("docker", ["run", "--rm", BASE_TAG, "true"]);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return {
    engine,
    async close() {
      const left = await engine.leftovers().catch((error: Error) => [`(could not list: ${error.message})`]);
      await engine.stop();
      if (left.length > 0)
        throw new Error(`the Docker tests left behind in the engine:\n  ${left.join("\n  ")}`);
    },
  };
}
