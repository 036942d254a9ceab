/**
 * The commands a release runs inside containers, as argv; and their scripts run on this machine (what
 * follows `docker exec <id>`), so the readiness probe and the drain are checked by running them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { healthcheckCommand } from "../../src/release/decisions.js";
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
      "label=com.docker.compose.project=shipyard",
      "label=com.docker.compose.service=nginx",
      ...["nginx", "-p", "/tmp/", "-c", "/etc/nginx/nginx.conf", "-t"],
    ]);
  });

  it("find nginx's task by its Swarm service label on a swarm, where compose made no container", () => {
    const swarm = {
      ...env,
      target: {
        kind: "swarm" as const,
        host: "m",
        user: "deploy",
        port: 22,
        hostKey: "k",
        replicas: 2,
        dataLabel: "d",
      },
    };
    expect(testNginx(swarm, null).argv.slice(4, 6)).toEqual([
      "label=com.docker.stack.namespace=shipyard",
      "label=com.docker.swarm.service.name=shipyard_nginx",
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
  it("migrate with the environment's migrate command", () => {
    expect(migrateIn("bbb", ["node", "dist/cli.js", "migrate"]).argv).toEqual([
      "docker",
      "exec",
      "bbb",
      "node",
      "dist/cli.js",
      "migrate",
    ]);
    expect(migrateIn("bbb", ["alembic", "upgrade", "head"]).argv.slice(3)).toEqual([
      "alembic",
      "upgrade",
      "head",
    ]);
  });

  it("healthcheck: the container's own, in either of Docker's forms; none is refused by the caller", () => {
    expect(healthcheckCommand('{"Test":["CMD","node","-e","x"],"Interval":5000000000}')).toEqual([
      "node",
      "-e",
      "x",
    ]);
    expect(healthcheckCommand('{"Test":["CMD-SHELL","curl -fs localhost/readyz"]}')).toEqual([
      "/bin/sh",
      "-c",
      "curl -fs localhost/readyz",
    ]);
    expect(healthcheckCommand('{"Test":["NONE"]}')).toBeUndefined();
    expect(healthcheckCommand("null\n")).toBeUndefined();
  });

  // The probe runs on the host; a `docker` on PATH that runs what follows `exec <id>` here stands in for
  // the container, and the check is the Node image's own HEALTHCHECK, read from its Dockerfile.
  async function probeHere(seconds: number, port: number) {
    const bin = await mkdtemp(join(tmpdir(), "shipyard-probe-"));
    try {
      await writeFile(join(bin, "docker"), '#!/bin/sh\n[ "$1" = exec ] || exit 99\nshift 2\nexec "$@"\n', {
        mode: 0o755,
      });
      const command = probeReady("bbb", seconds, await nodeImageHealthcheck());
      const [file = "", ...args] = command.argv;
      return await execa(file, args, {
        reject: false,
        env: { PATH: `${bin}:${process.env.PATH}`, PORT: String(port) },
      });
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  }

  async function nodeImageHealthcheck(): Promise<readonly string[]> {
    const dockerfile = await readFile(new URL("../../../app/Dockerfile", import.meta.url), "utf8");
    const json = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    return healthcheckCommand(JSON.stringify({ Test: ["CMD", ...JSON.parse(json ?? "[]")] })) ?? [];
  }

  it("probe: passes as soon as the image's healthcheck does, which asks /readyz", async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? "");
      res.writeHead(asked.length < 4 ? 503 : 200).end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const probe = await probeHere(20, (server.address() as AddressInfo).port);
      expect(probe.exitCode).toBe(0);
      expect(asked).toEqual(["/readyz", "/readyz", "/readyz", "/readyz"]);
    } finally {
      server.close();
    }
  }, 30_000);

  it("probe: gives up after its seconds with the check's last words", async () => {
    const server = createServer((_, res) => res.writeHead(503).end('{"status":"not ready"}'));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const probe = await probeHere(1, (server.address() as AddressInfo).port);
      expect(probe.exitCode).toBe(NOT_READY);
      expect(probe.stdout.trim()).toBe('503 {"status":"not ready"}');
    } finally {
      server.close();
    }
  });
});
