/**
 * The deployer's docker client against an engine that enforces Docker Engine 29's minimum API version
 * (1.44): the launcher's commands for a `local` environment (load the deployer image, tag it, run the CLI on
 * the host) exactly as the wiring builds them, with the host's socket somewhere other than
 * /var/run/docker.sock. The client is the newest on this machine (/usr/local/bin/docker), the one the
 * deployer's pinned docker CLI image ships; Debian's docker.io client, which the deployer used to install,
 * is run too, and refused.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DOCKER_CLI_IMAGE } from "../src/lib/defaults.js";
import { deployerWiring } from "../src/lib/deployer.js";
import { DEPLOYER_TARBALL_PATH } from "../src/lib/host-run.js";
import { ENGINE_MIN_API_VERSION, type FakeEngine, startFakeEngine } from "./support/fake-docker-engine.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NEWEST_CLIENT = "/usr/local/bin/docker";
const DEBIAN_CLIENT = "/usr/bin/docker";

let dir: string;
let engine: FakeEngine;
let socket: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "shipyard-docker-client-"));
  // Where rootless Docker keeps its socket, not where the client looks by default.
  socket = path.join(dir, "run-user-1000-docker.sock");
  engine = await startFakeEngine(socket);
  writeFileSync(path.join(dir, "deployer.tar"), "not a real image: the fake engine only reads it");
});

afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The launcher as the wiring builds it for `status --env=local`, with this checkout and a test tarball. */
function launcherArgv(): string[] {
  const wiring = deployerWiring({
    command: "status",
    env: "local",
    environment: { targetKind: "local", urlEnv: "DATABASE_URL" },
    hasSshKey: false,
    hasDockerSocket: true,
    hasDatabaseUrl: false,
    hostPath: "/home/dev/shop",
    dockerSocketPath: socket,
  });
  return wiring.argv.map((arg) =>
    arg === DEPLOYER_TARBALL_PATH
      ? path.join(dir, "deployer.tar")
      : arg.replace(/^\/src\/deploy\/bin\//, `${repoRoot}/deploy/bin/`),
  );
}

/** Runs the launcher with `client` as the only docker on PATH, talking to the fake engine. */
async function launchWith(client: string) {
  const bin = mkdtempSync(path.join(dir, "bin-"));
  symlinkSync(client, path.join(bin, "docker"));
  const [file = "", ...args] = launcherArgv();
  engine.requests.length = 0;
  engine.created.length = 0;
  return execa(file, args, {
    reject: false,
    timeout: 30_000,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      DOCKER_HOST: `unix://${socket}`,
      DOCKER_CONFIG: path.join(dir, "docker-config"),
      HOME: dir,
    },
    extendEnv: false,
  });
}

describe("the deployer's docker client on Docker Engine 29", () => {
  it("is the client this test runs: the pinned docker CLI image's version", async () => {
    expect(
      existsSync(NEWEST_CLIENT),
      `${NEWEST_CLIENT}: this machine kind has a docker 28 client there`,
    ).toBe(true);
    const { stdout } = await execa(NEWEST_CLIENT, ["--version"]);
    const version = /Docker version (\d+\.\d+\.\d+)/.exec(stdout)?.[1];
    expect(DEFAULT_DOCKER_CLI_IMAGE, "the default image should ship the client tested here").toBe(
      `docker:${version}-cli`,
    );
  });

  it("loads, tags and runs the CLI on the host through a socket that is not /var/run/docker.sock", async () => {
    const result = await launchWith(NEWEST_CLIENT);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      "ran: node --import=/src/node_modules/tsx/dist/loader.mjs /src/deploy/src/cli.ts status --env=local --json",
    );

    const calls = engine.requests.filter((r) => r.apiVersion);
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "POST /images/load",
        `POST /images/sha256:${"e".repeat(64)}/tag`,
        "POST /containers/create",
        expect.stringMatching(/^POST \/containers\/\w+\/start$/),
      ]),
    );
    // Every call at an API version the engine accepts.
    const tooOld = calls.filter((r) => Number(r.apiVersion) < Number(ENGINE_MIN_API_VERSION));
    expect(tooOld).toEqual([]);

    const [container] = engine.created;
    expect(container?.Image).toBe("shipyard-deployer:current");
    const hostConfig = container?.HostConfig as {
      Binds?: string[];
      NetworkMode?: string;
      AutoRemove?: boolean;
    };
    expect(hostConfig.NetworkMode).toBe("host");
    expect(hostConfig.AutoRemove).toBe(true);
    // The client lists binds in no fixed order.
    expect([...(hostConfig.Binds ?? [])].sort()).toEqual(
      ["/home/dev/shop:/home/dev/shop", `${socket}:/var/run/docker.sock`].sort(),
    );
  }, 60_000);

  it("Debian's docker.io client, which the deployer used to install, is refused by that engine", async () => {
    expect(existsSync(DEBIAN_CLIENT), `${DEBIAN_CLIENT}: Debian's docker.io client`).toBe(true);
    const result = await launchWith(DEBIAN_CLIENT);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/client version 1\.41 is too old\. Minimum supported API version is 1\.44/);
    expect(engine.created).toEqual([]);
  }, 60_000);
});
