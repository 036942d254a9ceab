/**
 * A two-node Docker Swarm on this machine: two dockerds, each in a network namespace of its own (a node's
 * own interfaces, iptables and bridges), joined by a bridge in the root namespace on 10.231.N.0/24. The
 * manager is .2 and carries the data label; the worker is .3; .1 is this machine, where a registry both
 * nodes pull from can listen. Overlay traffic between them is real VXLAN over that bridge.
 *
 * What it takes, found by trying (docs/swarm.md): `nsenter --net` rather than `ip netns exec`, whose new
 * mount namespace hides the cgroups dockerd needs; and an iptables rule that lets the bridge forward, since
 * bridged packets pass the root namespace's FORWARD chain, whose policy the tests' engine sets to DROP.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";

export interface SwarmNode {
  /** `unix://…/docker.sock`, for DOCKER_HOST. */
  readonly host: string;
  /** Its address on the bridge. */
  readonly address: string;
  readonly nodeId: string;
}

export interface TwoNodeSwarm {
  readonly manager: SwarmNode;
  readonly worker: SwarmNode;
  /** This machine's address on the bridge: where a registry for both nodes listens. */
  readonly hostAddress: string;
  /** `docker` against one node. */
  docker(node: SwarmNode, args: readonly string[], input?: string): Promise<string>;
  teardown(): Promise<void>;
}

/** Mount points under `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const mounts = await readFile("/proc/self/mounts", "utf8");
  return mounts
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((point) => point.startsWith(`${dir}/`))
    .sort()
    .reverse();
}

const answers = async (host: string) =>
  (await execa("docker", ["info", "--format", "{{.ID}}"], { env: { DOCKER_HOST: host }, reject: false }))
    .exitCode === 0;

async function freeSubnet(): Promise<number> {
  const { stdout } = await execa("ip", ["-o", "addr"]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = randomInt(0, 256);
    if (!stdout.includes(`10.231.${third}.`)) return third;
  }
  throw new Error("no free 10.231.N.0/24 for the two-node swarm");
}

export async function startTwoNodeSwarm(dataLabel: string): Promise<TwoNodeSwarm> {
  const id = randomBytes(2).toString("hex");
  const subnet = `10.231.${await freeSubnet()}`;
  const bridge = `sy${id}`;
  const dir = await mkdtemp(path.join(tmpdir(), `shipyard-two-nodes-${id}-`));
  const forward = ["FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"];
  const daemons: ChildProcess[] = [];
  const namespaces: string[] = [];
  let bridgeMade = false;
  let forwardAdded = false;
  const nodes: { host: string; address: string }[] = [];

  const teardown = async () => {
    for (const { host } of nodes)
      await execa("docker", ["swarm", "leave", "--force"], { env: { DOCKER_HOST: host }, reject: false });
    for (const daemon of daemons) daemon.kill("SIGTERM");
    for (const daemon of daemons)
      for (let i = 0; i < 100 && daemon.exitCode === null && daemon.signalCode === null; i++)
        await sleep(100);
    for (const daemon of daemons) if (daemon.exitCode === null) daemon.kill("SIGKILL");
    // dockerd leaves the namespaces of its overlay networks mounted under its exec root after a swarm leave.
    for (const mount of await mountsUnder(dir)) await execa("umount", ["--lazy", mount], { reject: false });
    for (const ns of namespaces) await execa("ip", ["netns", "delete", ns], { reject: false });
    if (bridgeMade) await execa("ip", ["link", "delete", bridge], { reject: false });
    if (forwardAdded) await execa("iptables", ["-D", ...forward], { reject: false });
    await rm(dir, { recursive: true, force: true });
  };

  const startNode = async (role: "m" | "w", last: number) => {
    const ns = `${bridge}${role}`;
    const address = `${subnet}.${last}`;
    await execa("ip", ["netns", "add", ns]);
    namespaces.push(ns);
    await execa("ip", ["link", "add", `${ns}h`, "type", "veth", "peer", "name", `${ns}n`]);
    await execa("ip", ["link", "set", `${ns}h`, "master", bridge]);
    await execa("ip", ["link", "set", `${ns}h`, "up"]);
    await execa("ip", ["link", "set", `${ns}n`, "netns", ns]);
    const inside = (args: string[]) => execa("ip", ["-n", ns, ...args]);
    await inside(["link", "set", "lo", "up"]);
    await inside(["addr", "add", `${address}/24`, "dev", `${ns}n`]);
    await inside(["link", "set", `${ns}n`, "up"]);
    const root = path.join(dir, role);
    await mkdir(root);
    const host = `unix://${root}/docker.sock`;
    const daemon = spawn(
      "setpriv",
      [
        "--pdeathsig=TERM",
        "--",
        "nsenter",
        `--net=/var/run/netns/${ns}`,
        "dockerd",
        `--data-root=${root}/data`,
        `--exec-root=${root}/exec`,
        `--pidfile=${root}/docker.pid`,
        `--host=${host}`,
        // The registry on this machine's bridge address serves plain HTTP.
        `--insecure-registry=${subnet}.0/24`,
        "--log-level=warn",
      ],
      { stdio: ["ignore", "ignore", "ignore"] },
    );
    daemons.push(daemon);
    for (let i = 0; i < 120 && daemon.exitCode === null && !(await answers(host)); i++) await sleep(500);
    if (!(await answers(host)))
      throw new Error(`the ${role === "m" ? "manager" : "worker"}'s dockerd in ${ns} did not answer`);
    nodes.push({ host, address });
    return { host, address };
  };

  const docker = async (node: { host: string }, args: readonly string[], input?: string) =>
    (
      await execa("docker", args, {
        env: { DOCKER_HOST: node.host },
        ...(input === undefined ? {} : { input }),
      })
    ).stdout.trim();

  try {
    await execa("ip", ["link", "add", bridge, "type", "bridge"]);
    bridgeMade = true;
    await execa("ip", ["addr", "add", `${subnet}.1/24`, "dev", bridge]);
    await execa("ip", ["link", "set", bridge, "up"]);
    await execa("iptables", ["-I", ...forward]);
    forwardAdded = true;
    const [managerHost, workerHost] = await Promise.all([startNode("m", 2), startNode("w", 3)]);
    const manager = managerHost as { host: string; address: string };
    const worker = workerHost as { host: string; address: string };
    await docker(manager, ["swarm", "init", "--advertise-addr", manager.address]);
    const token = await docker(manager, ["swarm", "join-token", "--quiet", "worker"]);
    await docker(worker, ["swarm", "join", "--token", token, `${manager.address}:2377`]);
    const managerId = await docker(manager, ["info", "--format", "{{.Swarm.NodeID}}"]);
    const workerId = await docker(worker, ["info", "--format", "{{.Swarm.NodeID}}"]);
    await docker(manager, ["node", "update", "--label-add", `${dataLabel}=true`, managerId]);
    return {
      manager: { ...manager, nodeId: managerId },
      worker: { ...worker, nodeId: workerId },
      hostAddress: `${subnet}.1`,
      docker,
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** Copies images from the tests' engine into a node's (no registry between them). */
export async function copyImages(images: readonly string[], to: string): Promise<void> {
  await execa(
    "bash",
    ["-c", 'set -o pipefail; docker save "$@" | DOCKER_HOST="$0" docker load --quiet', to, ...images],
    {
      shell: false,
    },
  );
}
