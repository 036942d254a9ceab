/**
 * `shipyard logs` and `shipyard exec` as an operator runs them: the real CLI, a stand-in `docker` on PATH
 * (support/fake-docker.ts: its `compose logs` prints JSON lines, then one every 0.2 s with --follow; its
 * `compose exec` runs the command here), on this machine and over a real OpenSSH server. Output arrives
 * while the command runs, Ctrl-C ends a --follow and the command on the host with it, exec's exit code,
 * stdin and terminal are the command's, and neither verb leaves an audit record. `script` gives the CLI a
 * terminal where a test needs one.
 */
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadline } from "../../../test/harness/deadline.js";
import { freePort } from "../../../test/harness/network.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { shellJoin } from "../../src/commands/argv.js";
import { CLI_ENTRY, runCli } from "../support/cli.js";
import { localEntry, writeEnvironmentsFile } from "../support/environment.js";
import { type FakeDocker, fakeDocker } from "../support/fake-docker.js";
import { startSshServer, type TestSshServer } from "../support/ssh-server.js";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRoaXMgaXMgbm90IGEgcmVhbCBrZXkgYXQgYWxs";
const LINES = [
  '{"level":"info","msg":"line 1"}',
  '{"level":"info","msg":"line 2"}',
  '{"level":"info","msg":"line 3"}',
];

let dir: string;
let docker: FakeDocker;
let sshd: TestSshServer;
let config: string;

beforeAll(async () => {
  dir = await makeScratchDir("logs-exec");
  docker = await fakeDocker(dir);
  // Its sessions find the stand-in docker first, as a server's deploy user finds its own.
  sshd = await startSshServer({ path: docker.path, ownHome: true });
  const compose = { project: "shop", directory: `${dir}/compose`, nginxConfDirectory: `${dir}/nginx/conf.d` };
  const t = sshd.target;
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    local: localEntry(dir, { compose }),
    remote: localEntry(dir, {
      compose,
      target: { kind: "ssh", host: t.host, port: t.port, user: t.user, hostKey: t.hostKey },
    }),
    // Nothing listens there, and no key is given: only a dry run may name it.
    unreachable: localEntry(dir, {
      compose,
      target: { kind: "ssh", host: "127.0.0.1", port: await freePort(), user: "deploy", hostKey: HOST_KEY },
    }),
  });
});
afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ PATH: docker.path, SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile });
const shipyard = (...args: string[]) => runCli(args, { config, env: env() });
/** What the stand-in docker was asked, one call a line, from the call numbered `from` on. */
const dockerCalls = async (from = 0) =>
  (await readFile(docker.log, "utf8")).split("\n").filter(Boolean).slice(from);
const callCount = async () => (existsSync(docker.log) ? (await dockerCalls()).length : 0);

/** The CLI on a terminal of its own (`script`), for what it does only when someone is there. */
function onTerminal(args: string[]) {
  // --config before the rest: after a `--` it would be exec's command's.
  const line = shellJoin(["node", "--import", "tsx", CLI_ENTRY, `--config=${config}`, ...args]);
  // Its stdin stays open (a pipe) until the command ends: script ends the session at its input's end.
  return execa("script", ["-q", "-e", "-c", line, "/dev/null"], { reject: false, env: env() });
}

/** Resolves once `text` has come out of the running CLI: it streams, or this never resolves. */
function whenPrinted(cli: ResultPromise, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = "";
    cli.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
  });
}

async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The stand-in's `logs --follow` ends within a few seconds (its next line after the session closed). */
async function followEnds(): Promise<void> {
  const pid = Number((await readFile(docker.followPid, "utf8")).trim());
  for (let i = 0; i < 50 && (await isRunning(pid)); i++) await sleep(100);
  expect(await isRunning(pid), `compose logs --follow (pid ${pid}) still runs`).toBe(false);
}

/** A --follow started, streaming, then interrupted as Ctrl-C would: exit 130, the command on the host gone. */
async function followThenInterrupt(envName: string) {
  await rm(docker.followPid, { force: true });
  const cli = shipyard("logs", `--env=${envName}`, "--follow");
  await whenPrinted(cli, '"msg":"tick"');
  cli.kill("SIGINT");
  const { exitCode, stdout } = await cli;
  expect(exitCode).toBe(130);
  expect(stdout.split("\n").slice(0, 3)).toEqual(LINES);
  await followEnds();
}

describe.each(["local", "remote"])("on the %s environment", (envName) => {
  it(
    "logs prints the app's lines as they are, through the project's compose invocation",
    async () => {
      const from = await callCount();
      const { exitCode, stdout, stderr } = await shipyard("logs", `--env=${envName}`);
      expect(exitCode, stderr).toBe(0);
      expect(stdout.split("\n")).toEqual(LINES);
      expect(await dockerCalls(from)).toEqual([
        `compose --project-name shop --project-directory ${dir}/compose logs --no-log-prefix --tail=100 app`,
      ]);
    },
    deadline({ cli: 1 }),
  );

  it(
    "logs --follow streams until Ctrl-C, which ends the command on the host too, exit 130",
    () => followThenInterrupt(envName),
    deadline({ cli: 1 }),
  );

  it(
    "exec runs the command in the service's container without a terminal (-T), with its stdin, and exits with its code",
    async () => {
      const from = await callCount();
      const failing = await shipyard(
        "exec",
        `--env=${envName}`,
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 7",
      );
      expect(failing.exitCode).toBe(7);
      expect(failing.stdout).toBe("out");
      expect(failing.stderr).toBe("err");
      const piped = await runCli(["exec", `--env=${envName}`, "--service=postgres", "--", "cat"], {
        config,
        env: env(),
        input: "SELECT 1;\n",
      });
      expect(piped.exitCode).toBe(0);
      expect(piped.stdout).toBe("SELECT 1;");
      expect(await dockerCalls(from)).toEqual([
        `compose --project-name shop --project-directory ${dir}/compose exec -T app sh -c echo out; echo err >&2; exit 7`,
        `compose --project-name shop --project-directory ${dir}/compose exec -T postgres cat`,
      ]);
    },
    deadline({ cli: 2 }),
  );

  it(
    "exec on a terminal is interactive: the command gets one (ssh -tt over SSH), and its code is the CLI's",
    async () => {
      const from = await callCount();
      const { exitCode, stdout } = await onTerminal([
        "exec",
        `--env=${envName}`,
        "--",
        "sh",
        "-c",
        "tty; exit 5",
      ]);
      expect(exitCode).toBe(5);
      expect(stdout).toMatch(/^\/dev\/pts\/\d+\r?$/m);
      // No ssh "Connection … closed." line.
      expect(stdout).not.toMatch(/closed/);
      expect(await dockerCalls(from)).toEqual([
        `compose --project-name shop --project-directory ${dir}/compose exec app sh -c tty; exit 5`,
      ]);
    },
    deadline({ cli: 1 }),
  );
});

describe("what logs and exec leave and reach", () => {
  it(
    "logs --follow on a terminal over SSH ends on Ctrl-C typed there, the command on the host with it",
    async () => {
      await rm(docker.followPid, { force: true });
      const cli = onTerminal(["logs", "--env=remote", "--follow"]);
      await whenPrinted(cli, '"msg":"tick"');
      cli.stdin?.write("\x03");
      const { exitCode } = await cli;
      expect(exitCode).toBe(130);
      await followEnds();
    },
    deadline({ cli: 1 }),
  );

  it(
    "--dry-run prints the command and reaches no server (no key, nothing listening)",
    async () => {
      const logs = await runCli(
        ["logs", "--env=unreachable", "--service=nginx", "--since=15m", "--dry-run"],
        {
          config,
          env: { SHIPYARD_SSH_KEY_FILE: "", SHIPYARD_SSH_KEY: "" },
        },
      );
      expect(logs.exitCode, logs.stderr).toBe(0);
      expect(logs.stdout).toBe(
        [
          "1. logs of nginx",
          `   env docker compose --project-name shop --project-directory ${dir}/compose logs --no-log-prefix --since=15m nginx`,
          `   on deploy@127.0.0.1:${(logs.stdout.match(/127\.0\.0\.1:(\d+)/) ?? [])[1]}`,
        ].join("\n"),
      );
      const exec = await runCli(
        ["exec", "--env=unreachable", "--dry-run", "--", "node", "dist/cli.js", "x y"],
        {
          config,
          env: { SHIPYARD_SSH_KEY_FILE: "", SHIPYARD_SSH_KEY: "" },
        },
      );
      expect(exec.exitCode, exec.stderr).toBe(0);
      expect(exec.stdout).toContain('exec -T app node dist/cli.js "x y"');
    },
    deadline({ cli: 2 }),
  );

  it("neither wrote an audit record on the host", () => {
    expect(existsSync(path.join(dir, "state", "audit.jsonl"))).toBe(false);
  });
});
