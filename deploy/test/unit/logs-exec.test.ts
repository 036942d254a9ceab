/**
 * `logs` and `exec` without a host: the compose commands they build (commands/running-service.ts), how
 * their flags are judged (cli/service-flags.ts, args.ts), how each is attached to the operator's terminal,
 * and the exit code it ends with, through a FakeRunner; neither leaves an audit record.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { NO_OPTIONS, type Options, parseCommandLine } from "../../src/cli/args.js";
import type { CliContext } from "../../src/cli/context.js";
import { execCommand } from "../../src/cli/exec.js";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { logsCommand } from "../../src/cli/logs.js";
import { operationOf } from "../../src/cli/operation-record.js";
import { runRecorded } from "../../src/cli/record.js";
import { logsRequest, serviceOption } from "../../src/cli/service-flags.js";
import { commandUsage } from "../../src/cli/usage.js";
import { execInService, serviceLogs } from "../../src/commands/running-service.js";
import { sshArgv } from "../../src/commands/ssh.js";
import type { Environment } from "../../src/config/environments.js";
import { UsageError } from "../../src/mistakes.js";
import { Progress } from "../../src/progress.js";
import { environmentFrom, localEntry } from "../support/environment.js";
import { FakeRunner } from "../support/fake-runner.js";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRoaXMgaXMgbm90IGEgcmVhbCBrZXkgYXQgYWxs";
const PROJECT = "env docker compose --project-name shop --project-directory /srv/compose";

/** An SSH environment whose stack names its services its own way (app, web, db; redis is redis). */
const env: Environment = environmentFrom(
  "prod",
  localEntry("/srv/test", {
    target: { kind: "ssh", host: "prod.example.com", port: 22, user: "deploy", hostKey: HOST_KEY },
    compose: {
      project: "shop",
      directory: "/srv/compose",
      nginxConfDirectory: "/srv/nginx/conf.d",
      nginxService: "web",
    },
    database: { urlEnv: "SHOP_URL", dumpFrom: "compose-service", service: "db" },
  }),
);
const v1 = environmentFrom(
  "old",
  localEntry("/srv/test", {
    compose: {
      project: "shop",
      directory: "/srv/compose",
      nginxConfDirectory: "/srv/n",
      cli: "docker-compose",
    },
  }),
);

const options = (more: Partial<Options> = {}): Options => ({ ...NO_OPTIONS, env: "prod", ...more });
const line = (command: { argv: readonly string[] }) => command.argv.join(" ");

function contextOn(
  host: FakeRunner,
  more: Partial<Options> = {},
  { passed = [] as string[], terminal = false } = {},
): CliContext {
  return {
    environment: env,
    options: options(more),
    subcommand: undefined,
    passed,
    progress: new Progress(() => {}),
    terminal: { input: terminal, output: terminal },
    who: "ana@laptop",
    local: new FakeRunner(),
    host: async () => host,
  };
}

describe("the compose commands", () => {
  it("logs: the service's lines without compose's prefix, through the project's own invocation", () => {
    expect(line(serviceLogs(env, { service: "app", follow: false, tail: "100" }))).toBe(
      `${PROJECT} logs --no-log-prefix --tail=100 app`,
    );
    expect(line(serviceLogs(env, { service: "nginx", follow: true, since: "10m", tail: "5" }))).toBe(
      `${PROJECT} logs --no-log-prefix --follow --since=10m --tail=5 web`,
    );
  });

  it("names each of the four services as the environment's stack does", () => {
    const service = (role: "app" | "nginx" | "postgres" | "redis") =>
      serviceLogs(env, { service: role, follow: false }).argv.at(-1);
    expect([service("app"), service("nginx"), service("postgres"), service("redis")]).toEqual([
      "app",
      "web",
      "db",
      "redis",
    ]);
  });

  it("exec: -T unless it has a terminal, and the command's words as typed", () => {
    const argv = ["psql", "-U", "app", "-c", "SELECT 1; -- it's"];
    expect(execInService(env, "postgres", argv, { terminal: false }).argv).toEqual([
      ...PROJECT.split(" "),
      "exec",
      "-T",
      "db",
      ...argv,
    ]);
    expect(line(execInService(env, "app", ["sh"], { terminal: true }))).toBe(`${PROJECT} exec app sh`);
  });

  it("on a swarm: logs from every node's tasks through the manager; exec in the service's task there", async () => {
    const swarm: Environment = {
      ...env,
      target: {
        kind: "swarm",
        host: "m",
        port: 22,
        user: "deploy",
        hostKey: HOST_KEY,
        replicas: 2,
        dataLabel: "d",
      },
    };
    expect(line(serviceLogs(swarm, { service: "nginx", follow: true, tail: "5" }))).toBe(
      "docker service logs --raw --follow --tail=5 shop_web",
    );
    // The task's container is found by its Swarm label when the command runs: a stand-in docker answers here.
    const dir = await mkdtemp(path.join(tmpdir(), "swarm-exec-"));
    try {
      await writeFile(
        path.join(dir, "docker"),
        '#!/bin/sh\nif [ "$1" = ps ]; then [ "$TASK" ] && echo "$TASK"; exit 0; fi\necho "$@"\n',
        { mode: 0o755 },
      );
      const run = (command: { argv: readonly string[] }, task: string) =>
        execa(command.argv[0] as string, command.argv.slice(1), {
          env: { PATH: `${dir}:${process.env.PATH}`, TASK: task },
          reject: false,
        });
      const argv = ["psql", "-c", "SELECT 1"];
      const piped = await run(execInService(swarm, "postgres", argv, { terminal: false }), "c0ffee");
      expect(piped.stdout).toBe("exec -i c0ffee psql -c SELECT 1");
      const interactive = await run(execInService(swarm, "postgres", ["psql"], { terminal: true }), "c0ffee");
      expect(interactive.stdout).toBe("exec -it c0ffee psql");
      const none = await run(execInService(swarm, "app", ["sh"], { terminal: false }), "");
      expect(none.exitCode).toBe(1);
      expect(none.stderr).toContain("no running task of shop_app on this node");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("over SSH, a terminal is forced (-tt) and ssh's closing line left out", () => {
    const files = { knownHostsFile: "/t/kh", identityFile: "/t/id", controlPath: "/t/cm" };
    const target = env.target as Extract<Environment["target"], { kind: "ssh" }>;
    const attached = sshArgv(target, files, ["docker", "ps"], { terminal: true }).join(" ");
    expect(attached).toMatch(/ -o ControlMaster=no -tt -o LogLevel=ERROR prod\.example\.com -- docker ps$/);
    expect(sshArgv(target, files, ["docker", "ps"]).join(" ")).not.toContain("-tt");
  });
});

describe("the flags of logs and exec", () => {
  it("--service defaults to app and takes the four names", () => {
    expect(serviceOption(options())).toBe("app");
    for (const name of ["app", "nginx", "postgres", "redis"])
      expect(serviceOption(options({ service: name }))).toBe(name);
  });

  it("a mistyped service names the valid ones and the nearest", () => {
    expect(() => serviceOption(options({ service: "postgress" }))).toThrow(
      new UsageError(
        'unknown service "postgress" for --service; valid services: app, nginx, postgres, redis; did you mean postgres?',
      ),
    );
  });

  it("the last 100 lines, 10 before following, every one since --since, or --tail's", () => {
    expect(logsRequest(options(), env)).toEqual({ service: "app", follow: false, tail: "100" });
    expect(logsRequest(options({ follow: true }), env)).toMatchObject({ follow: true, tail: "10" });
    expect(logsRequest(options({ since: "1h30m" }), env)).toEqual({
      service: "app",
      follow: false,
      since: "1h30m",
    });
    expect(logsRequest(options({ since: "15m", tail: "all" }), env)).toMatchObject({ tail: "all" });
    expect(logsRequest(options({ tail: "0", follow: true }), env)).toMatchObject({ tail: "0" });
  });

  it.each(["10m", "90s", "2h", "1h30m", "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5+01:00"])(
    "--since=%s is taken",
    (since) => {
      expect(logsRequest(options({ since }), env).since).toBe(since);
    },
  );

  it.each([
    ["yesterday", /--since must be a duration/],
    ["10", /--since must be a duration/],
    ["m10", /--since must be a duration/],
    ["2026-11-23", /with its zone/],
    ["2026-11-23T10:00:00", /with its zone/],
    ["2026-13-45T10:00:00Z", /--since must be/],
    ["2d", /--since counts hours, not days: --since=48h/],
  ])("--since=%s is refused", (since, message) => {
    expect(() => logsRequest(options({ since }), env)).toThrow(message);
  });

  it("--since where compose v1 has none is refused, naming the environment", () => {
    expect(() => logsRequest(options({ since: "10m" }), v1)).toThrow(
      'environment "old" uses docker-compose (v1), whose logs has no --since',
    );
    expect(logsRequest(options({ tail: "20" }), v1)).toMatchObject({ tail: "20" });
  });

  it.each(["-1", "ten", "1.5", ""])("--tail=%j is refused", (tail) => {
    expect(() => logsRequest(options({ tail }), env)).toThrow(/--tail must be a number of lines/);
  });

  it("--follow with --json is refused: one streams, the other prints at the end", () => {
    expect(() => logsRequest(options({ follow: true, json: true }), env)).toThrow(
      /--follow streams lines .* --json prints one envelope/,
    );
  });

  it("words after -- are passed on as typed, flags included, and never read as the CLI's", () => {
    const parsed = parseCommandLine(["exec", "--env=prod", "--", "psql", "--json", "-c", "--env=x"]);
    expect(parsed.positionals).toEqual(["exec"]);
    expect(parsed.values).toMatchObject({ env: "prod", json: false });
    expect(parsed.passed).toEqual(["psql", "--json", "-c", "--env=x"]);
    expect(parseCommandLine(["status", "--env=prod"]).passed).toBeUndefined();
  });

  it("exec's help puts the command after the flags", () => {
    expect(commandUsage(execCommand)).toMatch(
      /^usage: shipyard exec \[--service=NAME\] --env=NAME \[options\] -- CMD \[ARGS…\]$/m,
    );
  });
});

describe("shipyard logs", () => {
  it("streams the lines through the host without a terminal, and exits 0", async () => {
    const host = new FakeRunner();
    const outcome = await logsCommand.run(contextOn(host, { service: "nginx" }));
    expect(host.attached).toEqual([
      {
        command: serviceLogs(env, { service: "nginx", follow: false, tail: "100" }),
        attachment: { terminal: false, input: false },
      },
    ]);
    expect(outcome).toEqual({ summary: [], exitCode: 0 });
  });

  it("--follow on a terminal gets one on the host, so the remote command ends with the session", async () => {
    const host = new FakeRunner();
    await logsCommand.run(contextOn(host, { follow: true }, { terminal: true }));
    expect(host.attached[0]?.attachment).toEqual({ terminal: true, input: false });
  });

  it("Ctrl-C (130) ends a --follow quietly with the shell's code; another failure is reported, exit 1", async () => {
    const interrupted = await logsCommand.run(
      contextOn(new FakeRunner(() => ({ exitCode: 130 })), { follow: true }),
    );
    expect(interrupted).toEqual({ summary: [], exitCode: 130 });
    expect(exitCodeFor({ outcome: interrupted })).toBe(130);

    const failed = await logsCommand.run(contextOn(new FakeRunner(() => ({ exitCode: 1 }))));
    expect(failed.problem?.message).toBe(
      `\`${PROJECT} logs --no-log-prefix --tail=100 app\` exited 1 on fake@host:22`,
    );
    expect(exitCodeFor({ outcome: failed })).toBe(1);
  });

  it("--json collects the lines into the envelope's result", async () => {
    const host = new FakeRunner(() => ({ stdout: '{"msg":"a"}\n{"msg":"b"}\n', stderr: "warn\n" }));
    const outcome = await logsCommand.run(contextOn(host, { json: true, since: "5m" }));
    expect(host.attached).toEqual([]);
    expect(host.lines).toEqual([`${PROJECT} logs --no-log-prefix --since=5m app`]);
    expect(outcome.result).toEqual({
      service: "app",
      stdout: ['{"msg":"a"}', '{"msg":"b"}'],
      stderr: ["warn"],
    });
  });

  it("--dry-run prints the command and where it would run, reaching no host", async () => {
    const ctx = {
      ...contextOn(new FakeRunner(), { "dry-run": true, follow: true }, { terminal: true }),
      host: () => Promise.reject(new Error("a dry run opened the host")),
    };
    expect((await logsCommand.run(ctx)).plan).toEqual([
      {
        step: "logs of app",
        argv: [...PROJECT.split(" "), "logs", "--no-log-prefix", "--follow", "--tail=10", "app"],
        note: "on deploy@prod.example.com:22, with a terminal (ssh -tt), so Ctrl-C ends it there too",
      },
    ]);
  });
});

describe("shipyard exec", () => {
  const migrationVersion = ["node", "dist/cli.js", "migration-version"];

  it("runs the command in the app's container with the operator's stdin, and exits with its code", async () => {
    const host = new FakeRunner(() => ({ exitCode: 3 }));
    const outcome = await execCommand.run(contextOn(host, {}, { passed: migrationVersion }));
    expect(host.attached).toEqual([
      {
        command: execInService(env, "app", migrationVersion, { terminal: false }),
        attachment: { terminal: false, input: true },
      },
    ]);
    expect(outcome).toEqual({ summary: [], exitCode: 3 });
    expect(exitCodeFor({ outcome })).toBe(3);
    expect(exitCodeFor({ outcome: { summary: [], exitCode: 0 } })).toBe(0);
  });

  it("is interactive only when stdin and stdout are both a terminal", async () => {
    const host = new FakeRunner();
    await execCommand.run(contextOn(host, { service: "postgres" }, { passed: ["psql"], terminal: true }));
    expect(host.attached[0]).toEqual({
      command: execInService(env, "postgres", ["psql"], { terminal: true }),
      attachment: { terminal: true, input: true },
    });
    const halfway = { ...contextOn(host, {}, { passed: ["sh"] }), terminal: { input: true, output: false } };
    await execCommand.run(halfway);
    expect(host.attached[1]?.attachment.terminal).toBe(false);
    expect(host.attached[1]?.command.argv).toContain("-T");
  });

  it("--dry-run prints the command, reaching no host", async () => {
    const ctx = {
      ...contextOn(new FakeRunner(), { "dry-run": true }, { passed: migrationVersion }),
      host: () => Promise.reject(new Error("a dry run opened the host")),
    };
    expect((await execCommand.run(ctx)).plan).toEqual([
      {
        step: "exec in app",
        argv: [...PROJECT.split(" "), "exec", "-T", "app", ...migrationVersion],
        note: "on deploy@prod.example.com:22, not interactive (-T): stdin and stdout piped",
      },
    ]);
  });
});

describe("neither changes the environment, so neither is audited", () => {
  it("operationOf names no operation for logs or exec", () => {
    expect(operationOf("logs", undefined, options())).toBeUndefined();
    expect(operationOf("exec", undefined, options())).toBeUndefined();
  });

  it("runRecorded appends nothing to the host's audit log", async () => {
    const host = new FakeRunner();
    await runRecorded(logsCommand, contextOn(host));
    await runRecorded(execCommand, contextOn(host, {}, { passed: ["true"] }));
    expect(host.lines.filter((l) => l.includes("audit.jsonl"))).toEqual([]);
    expect(host.ran).toHaveLength(2);
  });
});
