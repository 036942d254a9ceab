import { describe, expect, it } from "vitest";
import { compose, startBeside } from "../../src/commands/compose.js";
import { upstreamConf } from "../../src/commands/nginx.js";
import { Progress } from "../../src/progress.js";
import {
  type AppContainer,
  newContainer,
  parseContainers,
  requirePinnedImage,
} from "../../src/release/decisions.js";
import { type DeployContext, releasePlan, rollbackSteps } from "../../src/release/release.js";
import { localEnvironment } from "../support/environment.js";
import { FakeRunner } from "../support/fake-runner.js";

const env = localEnvironment("/srv/x");
const digest = `sha256:${"c".repeat(64)}`;
const image = `registry.example.com/shop/app@${digest}`;
const holder = {
  holder: "ci",
  purpose: "deploy r2",
  since: "2026-11-23T10:00:00.000Z",
  token: "0123456789abcdef",
};
const blue: AppContainer = { id: "aaa", name: "shipyard-app-1", image: "app@sha256:old", state: "running" };
const green: AppContainer = { id: "bbb", name: "shipyard-app-2", image, state: "running" };
const ctx = (options: Partial<DeployContext> = {}): DeployContext => ({
  environment: env,
  runner: new FakeRunner(),
  progress: new Progress(() => {}),
  who: "ci",
  backup: async () => "never taken by a plan",
  ...options,
});
const plan = (
  request: { image: string; release: string; migrate?: boolean },
  running: AppContainer[],
  options: Partial<DeployContext> = {},
  volumes: string[] = running.length ? ["shipyard_postgres-data"] : [],
) => releasePlan(ctx(options), { migrate: true, ...request }, { containers: running, volumes }, holder);

describe("release plan", () => {
  it("deploys only images pinned by digest", () => {
    expect(requirePinnedImage(image)).toBe(image);
    expect(() => requirePinnedImage("registry.example.com/shop/app:latest")).toThrow(
      '--image must be pinned by digest (name@sha256:<64 hex>), got "registry.example.com/shop/app:latest"',
    );
  });

  it("starts the new release beside the old, switches nginx only once it is healthy, and stops the old last", () => {
    const steps = plan({ image, release: "r2" }, [blue]).map((s) => s.step);
    const at = (name: string) => steps.indexOf(name);
    expect(at("lock")).toBe(3);
    expect(at("backup")).toBeLessThan(at("start beside"));
    // Migrated from inside the new container, which serves nothing until it is ready.
    expect(at("start beside")).toBeLessThan(at("migrate"));
    expect(at("migrate")).toBeLessThan(at("wait healthy"));
    expect(at("wait healthy")).toBeLessThan(at("switch upstream"));
    expect(at("switch upstream")).toBeLessThan(at("nginx -t"));
    expect(at("nginx -t")).toBeLessThan(at("reload nginx"));
    expect(at("reload nginx")).toBeLessThan(at("verify through nginx"));
    expect(at("verify through nginx")).toBeLessThan(at("drain"));
    expect(at("drain")).toBeLessThan(at("stop shipyard-app-1"));
    expect(steps.at(-1)).toBe("unlock");
  });

  it("plans a first release as compose up of the app with its dependencies, and a rollback without migrations or backup", () => {
    const first = plan({ image, release: "r1" }, []).map((s) => s.step);
    expect(first).toContain("start stack (migrate, app)");
    expect(first).not.toContain("start beside");
    expect(first).not.toContain("migrate");
    // No app container and no volume here: no data, so no backup.
    expect(first).toContain("backup: skipped");
    expect(first).not.toContain("backup");
    // A stopped container, or volumes kept by `compose down`, hold data: backed up.
    const stopped = plan({ image, release: "r2" }, [{ ...blue, state: "exited" }]).map((s) => s.step);
    const downed = plan({ image, release: "r2" }, [], {}, ["shipyard_postgres-data"]).map((s) => s.step);
    for (const steps of [stopped, downed]) {
      expect(steps).toContain("backup");
      expect(steps).not.toContain("backup: skipped");
    }
    const back = plan({ image, release: "r1", migrate: false }, [blue], { backup: undefined }).map(
      (s) => s.step,
    );
    expect(back).toContain("start beside");
    expect(back).not.toContain("migrate");
    expect(back).not.toContain("backup");
  });

  it("scales the app service up by one without recreating the running containers", () => {
    expect(startBeside(env, image, "r2", 1).argv).toEqual([
      "env",
      `APP_IMAGE=${image}`,
      "RELEASE_ID=r2",
      "APP_PORT=3000",
      "APP_MIGRATE_COMMAND=node dist/cli.js migrate",
      "docker",
      "compose",
      "--project-name",
      "shipyard",
      "--project-directory",
      "compose",
      "up",
      "--detach",
      "--no-deps",
      "--no-recreate",
      "--scale",
      "app=2",
      "app",
    ]);
    const v1 = { ...env, compose: { ...env.compose, cli: "docker-compose" as const } };
    expect(compose(v1, ["ps"]).argv.slice(0, 3)).toEqual(["env", "docker-compose", "--project-name"]);
  });

  it("writes the upstream file in the shape nginx/README.md keeps, and refuses anything but a container name", () => {
    expect(upstreamConf("shipyard-app-2")).toContain(
      "upstream app {\n  server shipyard-app-2:3000 max_fails=3 fail_timeout=10s;\n  keepalive 32;\n}\n",
    );
    expect(() => upstreamConf("app:3000; } server { listen 80")).toThrow("not a container name");
  });

  it("finds the container the release started from docker ps output", () => {
    const ps = [blue, green]
      .map((c) =>
        JSON.stringify({ ID: c.id, Names: c.name, Image: c.image, State: c.state, Status: "Up 3 seconds" }),
      )
      .join("\n");
    const after = parseContainers(`${ps}\n`);
    expect(newContainer([blue], after)).toEqual(green);
    expect(() => newContainer([blue], [blue])).toThrow(
      "expected exactly one new app container after starting the release, found 0",
    );
    expect(() => newContainer([], after)).toThrow("found 2: shipyard-app-1, shipyard-app-2");
  });
});

describe("rollback plan", () => {
  const record = {
    release: "r2",
    env: "local",
    who: "ci",
    at: "2026-11-23T10:00:00.000Z",
    image,
    digest,
    result: "failed" as const,
  };
  const previousUpstream = upstreamConf("shipyard-app-1");

  it("after the switch: traffic back to the old release first, then the new container away, then the ledger", () => {
    const steps = rollbackSteps(
      env,
      { previousUpstream, fresh: green, switched: true, migrated: true, config: null, nginx: "ngx" },
      record,
    );
    expect(steps.map((s) => s.name)).toEqual([
      "restore upstream",
      "nginx -t",
      "reload nginx",
      "stop shipyard-app-2",
      "remove shipyard-app-2",
      "ledger",
    ]);
    expect(steps.at(-1)?.command?.argv).toBeDefined();
  });

  it("before the switch nginx is left alone; nothing started means only the ledger entry", () => {
    const left = {
      previousUpstream,
      fresh: null,
      switched: false,
      migrated: false,
      config: null,
      nginx: null,
    };
    expect(rollbackSteps(env, { ...left, fresh: green }, record).map((s) => s.name)).toEqual([
      "stop shipyard-app-2",
      "remove shipyard-app-2",
      "ledger",
    ]);
    expect(rollbackSteps(env, left, record).map((s) => s.name)).toEqual(["ledger"]);
  });
});
