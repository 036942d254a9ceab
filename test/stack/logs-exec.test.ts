/**
 * `shipyard logs` and `shipyard exec` against the real stack: the production compose file (copied into a
 * scratch project directory beside its own .env, as setup leaves it on a host), its app built from
 * app/Dockerfile with Postgres, Redis and the migrations, on the test engine. The CLI runs as an operator
 * runs it, through the environment's own compose invocation (project name and directory), on this machine
 * and over real SSH (pinned host key), as backup-on-server.test.ts does.
 * Run: npx vitest run --project docker test/stack/logs-exec.test.ts
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../deploy/test/support/cli.js";
import type { EnvironmentEntry } from "../../deploy/test/support/environment.js";
import { localEntry, writeEnvironmentsFile } from "../../deploy/test/support/environment.js";
import { startSshServer, type TestSshServer } from "../../deploy/test/support/ssh-server.js";
import { type ComposeCli, detectComposeCli } from "../docker/compose-cli.js";
import { ComposeProject } from "../docker/compose-project.js";
import { buildAppImage, ensureImages } from "../docker/standin-images.js";
import { REPO_ROOT } from "./support/nginx-host.js";

const APP_IMAGE = "shipyard-app:logs-exec-test";
const RELEASE = "logs-exec-test";
const SERVICES = ["postgres", "redis", "migrate", "app"];
/** The schema the image's migrations bring: the newest file in app/migrations. */
const EXPECTED_MIGRATION = readdirSync(join(REPO_ROOT, "app", "migrations"))
  .filter((file) => file.endsWith(".sql"))
  .map((file) => file.slice(0, -".sql".length))
  .sort()
  .at(-1);

let workDir: string;
let cli: ComposeCli;
let project: ComposeProject | undefined;
let sshd: TestSshServer | undefined;
let config: string;

/** A pino line as the app writes it. */
interface LogLine {
  level: string;
  time: string;
  service: string;
  release: string;
  hostname: string;
  msg: string;
  req?: { url?: string };
}

const shipyard = (...args: string[]) =>
  runCli(args, {
    config,
    cwd: REPO_ROOT,
    env: sshd ? { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile } : {},
  });

/**
 * The app's JSON lines in `text`, each of which must parse (a line naming its parse error fails the test).
 * Lines that are not JSON at all (a warning Node prints on stderr) are not the app's log lines.
 */
function appLines(text: string): LogLine[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not one of the app's JSON lines: ${line}`);
      }
    });
}

/** A request to the app from inside its container (nothing is published here), so it logs one more line. */
const requestVersion = () =>
  shipyard(
    "exec",
    "--env=local",
    "--",
    "node",
    "-e",
    "fetch('http://127.0.0.1:3000/version').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
  );

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "shipyard-logs-exec-"));
  try {
    cli = await detectComposeCli();
    const images = await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE"]);
    await buildAppImage(APP_IMAGE);
    // The project directory as a host has it: compose.yaml and its .env side by side.
    const composeDir = join(workDir, "compose");
    mkdirSync(composeDir);
    copyFileSync(join(REPO_ROOT, "compose", "compose.yaml"), join(composeDir, "compose.yaml"));
    const env: Record<string, string> = {
      APP_IMAGE,
      POSTGRES_IMAGE: images.POSTGRES_IMAGE,
      REDIS_IMAGE: images.REDIS_IMAGE,
      RELEASE_ID: RELEASE,
      POSTGRES_PASSWORD: randomBytes(18).toString("hex"),
      REDIS_PASSWORD: randomBytes(18).toString("hex"),
      ADMIN_TOKEN: randomBytes(18).toString("hex"),
      GRAFANA_ADMIN_PASSWORD: randomBytes(18).toString("hex"),
    };
    const envFile = join(composeDir, ".env");
    writeFileSync(
      envFile,
      `${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n")}\n`,
      { mode: 0o600 },
    );

    const name = `shipyard-logs-${randomBytes(3).toString("hex")}`;
    project = new ComposeProject(
      cli,
      { name, files: [join(composeDir, "compose.yaml")], envFile },
      composeDir,
    );
    // The app and what it depends on; nginx is not needed to read the app's logs or run in its container.
    await project.run(["up", "--detach", "app"]);
    await project.waitReady(SERVICES, ["migrate"], 180_000);

    sshd = await startSshServer();
    const compose: EnvironmentEntry["compose"] = {
      project: name,
      directory: composeDir,
      cli: cli.version === "v2" ? "docker compose" : "docker-compose",
      nginxConfDirectory: join(workDir, "nginx", "conf.d"),
    };
    const t = sshd.target;
    config = await writeEnvironmentsFile(join(workDir, "environments.yaml"), {
      local: localEntry(workDir, { compose }),
      remote: localEntry(workDir, {
        compose,
        target: { kind: "ssh", host: t.host, port: t.port, user: t.user, hostKey: t.hostKey },
      }),
    });
  } catch (error) {
    await teardown();
    throw error;
  }
});

async function teardown(): Promise<void> {
  await sshd?.stop();
  await project?.down();
  await execa("docker", ["image", "rm", APP_IMAGE], { reject: false });
  rmSync(workDir, { recursive: true, force: true });
}

afterAll(teardown);

describe("shipyard logs on the real stack", () => {
  it("shows the app's JSON lines, each naming its release and host", async () => {
    const { exitCode, stdout, stderr } = await shipyard("logs", "--env=local", "--service=app", "--tail=all");
    expect(exitCode, stderr).toBe(0);
    // No `app-1 |` prefix: each line is the app's JSON as it wrote it.
    const lines = appLines(stdout);
    expect(lines.length).toBe(stdout.split("\n").filter((l) => l.includes('"service":"catalog"')).length);
    expect(lines.map((l) => l.msg)).toContain("catalog service started");
    for (const line of lines) {
      expect(line).toMatchObject({ service: "catalog", release: RELEASE });
      expect(line.hostname).toMatch(/^[0-9a-f]{12}$/);
    }
  });

  it("--since leaves out what came before it", async () => {
    const all = appLines((await shipyard("logs", "--env=local", "--tail=all")).stdout);
    await sleep(1_500);
    const since = new Date();
    await sleep(1_500);
    expect((await requestVersion()).exitCode).toBe(0);

    const run = await shipyard("logs", "--env=local", `--since=${since.toISOString()}`);
    if (cli.version === "v1") {
      // docker-compose v1's logs has no --since: refused before anything runs.
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain("--since needs compose v2");
      return;
    }
    expect(run.exitCode, run.stderr).toBe(0);
    const recent = appLines(run.stdout);
    expect(recent.some((l) => l.req?.url === "/version")).toBe(true);
    expect(recent.map((l) => l.msg)).not.toContain("catalog service started");
    expect(all.map((l) => l.msg)).toContain("catalog service started");
    // Docker stamps a line when it receives it, a moment after the app wrote its time.
    for (const line of recent) expect(Date.parse(line.time)).toBeGreaterThan(since.getTime() - 1_000);
  });

  it("--follow streams a new line as it is written, and Ctrl-C ends it with 130, leaving no compose logs behind", async () => {
    const follow = shipyard("logs", "--env=local", "--follow", "--tail=0");
    let seen = "";
    follow.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
    });
    // Once compose follows, a request's line must come out while the CLI still runs.
    for (let i = 0; i < 20 && !seen.includes('"/version"'); i++) {
      await requestVersion();
      await sleep(1_000);
    }
    expect(seen).toContain('"/version"');
    follow.kill("SIGINT");
    const { exitCode } = await follow;
    expect(exitCode).toBe(130);
    const left = await execa("pgrep", ["-f", `${project?.spec.name} .*logs --no-log-prefix --follow`], {
      reject: false,
    });
    expect(left.stdout.trim()).toBe("");
  });
});

describe("shipyard exec on the real stack", () => {
  it("runs the app's own CLI in its container (no shell there) and prints the schema version", async () => {
    const { exitCode, stdout, stderr } = await shipyard(
      "exec",
      "--env=local",
      "--",
      "node",
      "dist/cli.js",
      "migration-version",
    );
    expect(exitCode, stderr).toBe(0);
    expect(stdout).toBe(`current: ${EXPECTED_MIGRATION}\nexpected: ${EXPECTED_MIGRATION}`);
  });

  it("a failing command's exit code is shipyard's", async () => {
    // The app's CLI answers an unknown subcommand with its usage and EX_USAGE (64).
    const { exitCode, stderr } = await shipyard(
      "exec",
      "--env=local",
      "--",
      "node",
      "dist/cli.js",
      "no-such-command",
    );
    expect(exitCode).toBe(64);
    expect(stderr).toContain("usage: cli.js");
  });

  it("reaches the other services too: redis, with its password from its own environment", async () => {
    const { exitCode, stdout } = await shipyard(
      "exec",
      "--env=local",
      "--service=redis",
      "--",
      "redis-cli",
      "ping",
    );
    expect(exitCode).toBe(0);
    expect(stdout.trim()).toBe("PONG");
  });
});

describe("over real SSH (pinned host key)", () => {
  it("logs and exec run on the host through the same compose project, exit codes passed through", async () => {
    const logs = await shipyard("logs", "--env=remote", "--tail=5");
    expect(logs.exitCode, logs.stderr).toBe(0);
    const lines = appLines(logs.stdout);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);

    const version = await shipyard("exec", "--env=remote", "--", "node", "dist/cli.js", "migration-version");
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.stdout).toContain(`current: ${EXPECTED_MIGRATION}`);

    const failing = await shipyard("exec", "--env=remote", "--", "node", "-e", "process.exit(3)");
    expect(failing.exitCode).toBe(3);
  });
});
