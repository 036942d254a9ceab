/**
 * A deploy ships the repository's compose and nginx configuration to the host with real tar, through
 * the local runner (the SSH runner runs the same argv on the other side): a fresh host gets everything
 * and a seeded upstream, a host's live upstream is never overwritten, files are rewritten in place (so
 * single-file bind mounts see them), and a rollback puts the old files back and removes the new ones.
 */
import { cpSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMMAND_SECONDS } from "../../../test/harness/deadline.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import type { Environment } from "../../src/config/environments.js";
import { Progress } from "../../src/progress.js";
import { configToShip, shipConfig } from "../../src/release/deploy.js";
import { type ConfigChange, type DeployContext, rollbackSteps } from "../../src/release/release.js";
import { localRunner } from "../../src/runner.js";
import { localEnvironment } from "../support/environment.js";
import { releaseRecord } from "../support/release-record.js";

const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
let dir: string;
let host: string;
let source: string;
let env: Environment;
let ctx: DeployContext;

beforeEach(async () => {
  dir = await makeScratchDir("config");
  host = path.join(dir, "host");
  source = path.join(dir, "repo");
  // The repository as a deploy ships it: its own compose/ and nginx/.
  cpSync(path.join(REPO_ROOT, "compose"), path.join(source, "compose"), { recursive: true });
  cpSync(path.join(REPO_ROOT, "nginx"), path.join(source, "nginx"), { recursive: true });
  // A fresh host: the operator put compose/.env and the certificates there, nothing else.
  mkdirSync(path.join(host, "compose/certs"), { recursive: true });
  writeFileSync(path.join(host, "compose/.env"), "POSTGRES_PASSWORD=secret\n");
  mkdirSync(path.join(host, "state"), { recursive: true });
  env = localEnvironment(dir, {
    compose: {
      project: "shop",
      directory: path.join(host, "compose"),
      cli: "docker compose",
      appService: "app",
      nginxService: "nginx",
      nginxConfDirectory: path.join(host, "nginx/conf.d"),
    },
    stateDirectory: path.join(host, "state"),
  });
  ctx = {
    environment: env,
    runner: localRunner(COMMAND_SECONDS),
    progress: new Progress(() => {}),
    who: "test",
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (relative: string) => readFileSync(path.join(host, relative), "utf8");
const repo = (relative: string) => readFileSync(path.join(source, relative), "utf8");

async function ship(release: string): Promise<ConfigChange> {
  const shipment = await configToShip(ctx.environment, source);
  if (!shipment) throw new Error("nothing to ship");
  const change = await shipConfig(ctx, shipment, release);
  if (!change) throw new Error("no snapshot was taken");
  return change;
}

async function rollBack(change: ConfigChange): Promise<void> {
  const steps = rollbackSteps(
    env,
    { config: change, switched: false, nginx: null, previousUpstream: "", fresh: null, migrated: false },
    releaseRecord(),
  );
  for (const { name, command } of steps) if (name !== "ledger" && command) await ctx.runner.run(command);
}

describe("shipping the compose and nginx configuration", () => {
  it("gives a fresh host every file compose mounts and a seeded upstream, never .env or certificates", async () => {
    await ship("r1");
    expect(read("compose/compose.yaml")).toBe(repo("compose/compose.yaml"));
    expect(read("nginx/nginx.conf")).toBe(repo("nginx/nginx.conf"));
    expect(read("nginx/conf.d/shipyard.conf")).toBe(repo("nginx/conf.d/shipyard.conf"));
    expect(read("nginx/conf.d/upstream.conf")).toBe(repo("nginx/conf.d/upstream.conf"));
    expect(read("compose/monitoring/prometheus.yml")).toBe(repo("compose/monitoring/prometheus.yml"));
    expect(read("compose/.env")).toBe("POSTGRES_PASSWORD=secret\n");
    expect(() => read("compose/compose.dev.yaml")).toThrow(/ENOENT/);
    expect(() => read("compose/init-env.sh")).toThrow(/ENOENT/);
  });

  it("keeps the host's live upstream, and rewrites files in place, so a single-file bind mount sees them", async () => {
    await ship("r1");
    writeFileSync(
      path.join(host, "nginx/conf.d/upstream.conf"),
      "upstream app { server shop-app-7:3000; }\n",
    );
    // What a bind mount of nginx.conf holds: the file's inode. A second name for it stands in.
    const mounted = path.join(dir, "mounted-nginx.conf");
    linkSync(path.join(host, "nginx/nginx.conf"), mounted);
    writeFileSync(path.join(source, "nginx/nginx.conf"), `${repo("nginx/nginx.conf")}# r2\n`);

    await ship("r2");
    expect(read("nginx/conf.d/upstream.conf")).toBe("upstream app { server shop-app-7:3000; }\n");
    expect(readFileSync(mounted, "utf8")).toMatch(/# r2\n$/);
  });

  it("a rollback puts the host's files back and removes the ones the release added", async () => {
    await ship("r1");
    const before = read("nginx/conf.d/shipyard.conf");
    writeFileSync(path.join(source, "nginx/conf.d/shipyard.conf"), "broken;\n");
    writeFileSync(path.join(source, "nginx/conf.d/extra.conf"), "also loaded by include conf.d/*.conf;\n");

    const change = await ship("r2");
    expect(change.added).toEqual(["nginx/conf.d/extra.conf"]);
    expect(read("nginx/conf.d/shipyard.conf")).toBe("broken;\n");

    await rollBack(change);
    expect(read("nginx/conf.d/shipyard.conf")).toBe(before);
    expect(() => read("nginx/conf.d/extra.conf")).toThrow(/ENOENT/);
    expect(read("nginx/conf.d/upstream.conf")).toBe(repo("nginx/conf.d/upstream.conf"));
  });

  it("refuses a layout compose.yaml cannot mount, naming both paths", async () => {
    ctx.environment = { ...env, compose: { ...env.compose, nginxConfDirectory: "/etc/nginx/conf.d" } };
    await expect(ship("r1")).rejects.toThrow(
      `compose.nginxConfDirectory is /etc/nginx/conf.d, but compose.yaml mounts ../nginx from ${path.join(host, "compose")}`,
    );
  });

  it("ships nothing where the host's configuration is the repository itself (local, run in the checkout)", async () => {
    const inPlace = localEnvironment(dir, {
      compose: {
        ...env.compose,
        directory: path.join(source, "compose"),
        nginxConfDirectory: path.join(source, "nginx/conf.d"),
      },
    });
    expect(await configToShip(inPlace, source)).toBeNull();
  });
});
