/**
 * The commands a release runs inside containers, as argv; and their scripts run on this machine (what
 * follows `docker exec <id>`), so the readiness probe and the drain are checked by running them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { migrateIn, NOT_READY, probeReady } from "../../src/commands/docker.js";
import {
  drainNginx,
  findNginx,
  reloadNginx,
  retiredWorkers,
  STILL_DRAINING,
  testNginx,
} from "../../src/commands/nginx.js";
import { localEnvironment } from "../support/environment.js";

const env = localEnvironment("/srv/x");
/** What `docker exec <id>` would run in the container, run here instead. */
const inContainer = (argv: readonly string[]) => {
  const [file = "", ...args] = argv.slice(3);
  return execa(file, args, { reject: false });
};

/** A process titled as an nginx worker, as the drain finds it in /proc, for `seconds`. */
async function titledWorker(title: string, seconds: number): Promise<ChildProcess> {
  const worker = spawn("bash", ["-c", `exec -a "${title}" sleep ${seconds}`]);
  for (let look = 0; look < 100; look++) {
    const cmdline = await readFile(`/proc/${worker.pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.startsWith(title)) return worker;
    await sleep(10);
  }
  throw new Error("the stand-in worker did not start");
}

describe("nginx commands", () => {
  it("reach nginx by the id found once, one docker exec per action", () => {
    expect(findNginx(env).argv).toEqual([
      "docker",
      "ps",
      "--all",
      "--no-trunc",
      "--filter",
      "label=com.docker.compose.project=shipyard",
      "--filter",
      "label=com.docker.compose.service=nginx",
      "--format",
      "{{json .}}",
    ]);
    expect(testNginx(env, "ngx").argv).toEqual([
      "docker",
      "exec",
      "ngx",
      ...["nginx", "-p", "/tmp/", "-c", "/etc/nginx/nginx.conf", "-t"],
    ]);
    expect(reloadNginx(env, "ngx").argv.slice(0, 5)).toEqual(["docker", "exec", "ngx", "sh", "-c"]);
    expect(reloadNginx(env, "ngx").argv.at(-2)).toMatch(/kill -HUP 1$/);
  });

  it("find the running nginx themselves where its id is not known (an older journal's undo)", () => {
    const argv = testNginx(env, null).argv;
    expect(argv.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(argv.slice(3)).toEqual([
      "shipyard-in-nginx",
      "shipyard",
      "nginx",
      ...["nginx", "-p", "/tmp/", "-c", "/etc/nginx/nginx.conf", "-t"],
    ]);
  });

  it("read the PIDs a reload retires", () => {
    expect(retiredWorkers("31\n32\n")).toEqual(["31", "32"]);
    expect(retiredWorkers("")).toEqual([]);
  });

  it("drain: waits for the retired workers to exit, and no longer", async () => {
    const worker = await titledWorker("nginx: worker process", 0.5);
    const started = Date.now();
    const drained = await inContainer(drainNginx(env, "ngx", [String(worker.pid)], 5).argv);
    expect(drained.exitCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    // Well before its bound of 5 s.
    expect(Date.now() - started).toBeLessThan(4_500);
  });

  it("drain: stops at its bound with a worker still busy, and says how many", async () => {
    const worker = await titledWorker("nginx: worker process is shutting down", 30);
    try {
      const command = drainNginx(env, "ngx", [String(worker.pid), "999999"], 1);
      const drained = await inContainer(command.argv);
      expect(drained.exitCode).toBe(STILL_DRAINING);
      expect(command.okExitCodes).toEqual([STILL_DRAINING]);
      expect(drained.stdout.trim()).toBe("1");
    } finally {
      worker.kill();
    }
  });
});

describe("commands inside the new app container", () => {
  it("migrate with the app's own CLI", () => {
    expect(migrateIn("bbb").argv).toEqual(["docker", "exec", "bbb", "node", "dist/cli.js", "migrate"]);
  });

  it("probe: answers as soon as /readyz says 200, asking ten times a second", async () => {
    let asked = 0;
    const server = createServer((_, res) => res.writeHead(++asked < 4 ? 503 : 200).end("{}"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const command = probeReady("bbb", 5, port);
      expect(command.argv.slice(0, 5)).toEqual(["docker", "exec", "bbb", "node", "-e"]);
      expect(command.argv.slice(6)).toEqual([`http://127.0.0.1:${port}/readyz`, "5"]);
      const probe = await inContainer(command.argv);
      expect(probe.exitCode).toBe(0);
      expect(asked).toBe(4);
    } finally {
      server.close();
    }
  });

  it("probe: gives up after its seconds with the last answer", async () => {
    const server = createServer((_, res) => res.writeHead(503).end('{"status":"not ready"}'));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const probe = await inContainer(probeReady("bbb", 1, port).argv);
      expect(probe.exitCode).toBe(NOT_READY);
      expect(probe.stdout.trim()).toBe('503 {"status":"not ready"}');
    } finally {
      server.close();
    }
  });
});
