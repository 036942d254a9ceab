/** The compose files as Compose itself reads them, and the pure helpers that drive Compose. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { releaseVars } from "../../deploy/src/commands/compose.js";
import { localEnvironment } from "../../deploy/test/support/environment.js";
import { chooseComposeCli, detectComposeCli } from "../docker/compose-cli.js";
import { ComposeProject, composeArgv, type ServiceState, stackReady } from "../docker/compose-project.js";
import { ensureDockerTools } from "../docker/engine.js";
import { REPO_ROOT } from "./support/nginx-host.js";

const COMPOSE_FILE = join(REPO_ROOT, "compose", "compose.yaml");
const DEV_FILE = join(REPO_ROOT, "compose", "compose.dev.yaml");

describe("choosing the Compose CLI", () => {
  it("prefers the v2 plugin, falls back to docker-compose v1", () => {
    expect(chooseComposeCli({ plugin: true, standalone: true })).toMatchObject({
      file: "docker",
      version: "v2",
    });
    expect(chooseComposeCli({ plugin: false, standalone: true })).toMatchObject({
      file: "docker-compose",
      version: "v1",
    });
    expect(chooseComposeCli({ plugin: true, standalone: false }).leadingArgs).toEqual(["compose"]);
  });

  it("honours STACK_COMPOSE when that CLI is installed, and says what to do otherwise", () => {
    expect(chooseComposeCli({ plugin: true, standalone: true }, "v1").version).toBe("v1");
    expect(() => chooseComposeCli({ plugin: true, standalone: false }, "v1")).toThrow(
      /apt-get install -y docker-compose/,
    );
    expect(() => chooseComposeCli({ plugin: false, standalone: true }, "v2")).toThrow(
      /plugin is not installed/,
    );
    expect(() => chooseComposeCli({ plugin: true, standalone: true }, "v3")).toThrow(/must be "v1" or "v2"/);
    expect(() => chooseComposeCli({ plugin: false, standalone: false })).toThrow(/No Docker Compose found/);
  });

  it("builds the same flags for either CLI", () => {
    const spec = { name: "p", files: ["a.yaml", "b.yaml"], envFile: "x.env", profiles: ["monitoring"] };
    const tail = ["--project-name", "p", "--env-file", "x.env", "--file", "a.yaml", "--file", "b.yaml"];
    expect(composeArgv(chooseComposeCli({ plugin: true, standalone: false }), spec, ["up", "-d"])).toEqual([
      "docker",
      ["compose", ...tail, "--profile", "monitoring", "up", "-d"],
    ]);
    expect(composeArgv(chooseComposeCli({ plugin: false, standalone: true }), spec, ["ps"])).toEqual([
      "docker-compose",
      [...tail, "--profile", "monitoring", "ps"],
    ]);
  });
});

describe("deciding that a stack is ready", () => {
  const state = (service: string, over: Partial<ServiceState>): ServiceState => ({
    service,
    containerId: service,
    running: true,
    exitCode: 0,
    health: "healthy",
    ...over,
  });

  it("needs every service healthy and every one-shot exited 0", () => {
    const migrated = state("migrate", { running: false, health: "none" });
    expect(stackReady([state("app", {}), migrated], ["migrate"])).toBe(true);
    expect(stackReady([state("app", { health: "starting" }), migrated], ["migrate"])).toBe(false);
    expect(stackReady([state("app", {}), { ...migrated, exitCode: 1 }], ["migrate"])).toBe(false);
    expect(stackReady([state("app", {}), state("migrate", { health: "none" })], ["migrate"])).toBe(false);
    expect(stackReady([], [])).toBe(false);
  });
});

describe("compose files, as Compose reads them", () => {
  let dir: string;
  let envFile: string;
  let project: ComposeProject;

  beforeAll(async () => {
    await ensureDockerTools();
    dir = mkdtempSync(join(tmpdir(), "compose-files-"));
    envFile = join(dir, "test.env");
    await execa(join(REPO_ROOT, "compose", "init-env.sh"), [envFile]);
    project = new ComposeProject(
      await detectComposeCli(),
      { name: "config-check", files: [COMPOSE_FILE], envFile },
      REPO_ROOT,
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("init-env.sh writes a 0600 env file with a fresh secret each time, and never overwrites one", async () => {
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const other = join(dir, "other.env");
    await execa(join(REPO_ROOT, "compose", "init-env.sh"), [other]);
    const secret = (file: string) => readFileSync(file, "utf8").match(/^ADMIN_TOKEN=([0-9a-f]{48})$/m)?.[1];
    expect(secret(envFile)).toBeTruthy();
    expect(secret(other)).not.toBe(secret(envFile));
    const again = await execa(join(REPO_ROOT, "compose", "init-env.sh"), [envFile], { reject: false });
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
  });

  it("resolves the production file with healthchecks on every long-running service", async () => {
    // With every profile on: v2 leaves services of inactive profiles out of `config`, v1 does not.
    const everything = new ComposeProject(
      project.cli,
      { ...project.spec, profiles: ["monitoring", "certbot"] },
      REPO_ROOT,
    );
    const config = parse((await everything.run(["config"])).stdout) as {
      services: Record<string, { healthcheck?: unknown; ports?: unknown[]; profiles?: string[] }>;
    };
    for (const [name, service] of Object.entries(config.services)) {
      if (name === "migrate" || name === "certbot") continue;
      expect(service.healthcheck, name).toBeDefined();
    }
    const published = Object.entries(config.services)
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    expect(published).toEqual(["grafana", "nginx"]);
  });

  it("resolves the development override together with the production file", async () => {
    const dev = new ComposeProject(
      project.cli,
      { ...project.spec, files: [COMPOSE_FILE, DEV_FILE] },
      REPO_ROOT,
    );
    const config = parse((await dev.run(["config"])).stdout) as {
      services: Record<string, { build?: { dockerfile: string } }>;
    };
    expect(config.services.migrate?.build?.dockerfile).toBe("app/Dockerfile");
  });

  it("refuses to start without a secret, naming the variable and how to set it", async () => {
    const partial = join(dir, "partial.env");
    writeFileSync(partial, readFileSync(envFile, "utf8").replace(/^REDIS_PASSWORD=.*$/m, "REDIS_PASSWORD="), {
      mode: 0o600,
    });
    const broken = new ComposeProject(project.cli, { ...project.spec, envFile: partial }, REPO_ROOT);
    const error = await broken.run(["config"]).then(
      () => "",
      (failure: { all?: string }) => failure.all ?? "",
    );
    expect(error).toMatch(/set REDIS_PASSWORD in compose\/\.env \(compose\/init-env\.sh writes one\)/);
  });

  it("takes the app's port and migrate command from what a deploy sets, word for word", async () => {
    const env = localEnvironment("/srv/x");
    const migrate = ["sh", "-c", "alembic upgrade head && echo 'schema at head'"];
    const vars = releaseVars({ ...env, app: { ...env.app, port: 8000, migrate } }, "app:x", "r9");
    const [file, args] = composeArgv(project.cli, project.spec, ["config"]);
    const config = parse((await execa(file, args, { cwd: REPO_ROOT, env: vars })).stdout) as {
      services: Record<string, { command?: string | string[]; environment?: Record<string, string> }>;
    };
    // v2 prints the command split; v1 prints the string and splits it with Python's shlex when it creates
    // the container, so that split is what v1 will run.
    const command = config.services.migrate?.command;
    const words =
      typeof command === "string"
        ? JSON.parse(
            (
              await execa("/usr/bin/python3", [
                "-c",
                "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))",
                command,
              ])
            ).stdout,
          )
        : command;
    expect(words).toEqual(migrate);
    expect(config.services.app?.environment?.PORT).toBe("8000");
    expect(config.services.app?.environment?.RELEASE_ID).toBe("r9");
  });

  it("takes every image from a variable, so a deploy can pin digests or use a mirror", async () => {
    const pinned = join(dir, "pinned.env");
    const digest = `sha256:${randomBytes(32).toString("hex")}`;
    writeFileSync(
      pinned,
      `${readFileSync(envFile, "utf8")}\nAPP_IMAGE=registry.example/app@${digest}\nPOSTGRES_IMAGE=mirror.local/postgres:15\n`,
      {
        mode: 0o600,
      },
    );
    const config = parse(
      (
        await new ComposeProject(
          project.cli,
          { ...project.spec, envFile: pinned, profiles: ["monitoring", "certbot"] },
          REPO_ROOT,
        ).run(["config"])
      ).stdout,
    ) as { services: Record<string, { image: string }> };
    expect(config.services.app?.image).toBe(`registry.example/app@${digest}`);
    expect(config.services.migrate?.image).toBe(`registry.example/app@${digest}`);
    expect(config.services.postgres?.image).toBe("mirror.local/postgres:15");
    const raw = readFileSync(COMPOSE_FILE, "utf8");
    const imageLines = raw.split("\n").filter((line) => /^\s+image:/.test(line));
    expect(imageLines.length).toBeGreaterThanOrEqual(7);
    for (const line of imageLines) expect(line).toMatch(/image: \$\{[A-Z_]+_IMAGE:-[^}]+\}$/);
  });
});
