/**
 * Help per command, a deploy's --dry-run that reaches no server, and a few bad inputs through the real
 * executable (unit/cli-bad-input.test.ts has the whole table, in process): one line on stderr, exit 2.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadline } from "../../../test/harness/deadline.js";
import { freePort } from "../../../test/harness/network.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { runCli } from "../support/cli.js";
import { localEntry, writeEnvironmentsFile } from "../support/environment.js";

const IMAGE = `registry.example.com/shop/app@sha256:${"a".repeat(64)}`;
/** An SSH host key the schema accepts; nothing is ever asked of the host. */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRoaXMgaXMgbm90IGEgcmVhbCBrZXkgYXQgYWxs";

let dir: string;
let config: string;

beforeAll(async () => {
  dir = await makeScratchDir("cli-help-and-plan");
  const database = { urlEnv: "SHOP_URL" };
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    local: localEntry(dir, { database }),
    // Nothing listens on its port, and no key is given: a run that tried to reach it would fail.
    remote: localEntry(dir, {
      database,
      target: { kind: "ssh", host: "127.0.0.1", port: await freePort(), user: "deploy", hostKey: HOST_KEY },
    }),
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("bad input, through the real executable", () => {
  it.concurrent.each([
    [["backup", "-e", "local"], "-e"],
    [["backups", "--env=local", `--image=${IMAGE}`], "--image"],
    [["backup", "now", "--env=local"], '"now"'],
    [["backup", "--env=Local"], "--env=local"],
  ])(
    "%j: exit 2, one line naming %s",
    async (args, name) => {
      const { exitCode, stdout, stderr } = await runCli(args, { config });
      expect(exitCode, stderr).toBe(2);
      expect(stdout).toBe("");
      // execa strips the final newline: one line is one with none left.
      expect(stderr).toMatch(/^shipyard [^\n]+$/);
      expect(stderr).toContain(name);
    },
    deadline({ cli: 1 }),
  );
});

describe("help", () => {
  it.concurrent(
    "`deploy --help` and `help deploy` print deploy's own usage: its flags and examples, exit 0",
    async () => {
      const [flag, word] = await Promise.all([runCli(["deploy", "--help"]), runCli(["help", "deploy"])]);
      for (const { exitCode, stdout } of [flag, word]) {
        expect(exitCode).toBe(0);
        expect(stdout).toMatch(/^usage: shipyard deploy --image=NAME@sha256:… --env=NAME \[options\]$/m);
        expect(stdout).toMatch(/^ {2}--image=NAME@sha256:… +deploy: the image to release/m);
        expect(stdout).toMatch(/^examples:\n {2}shipyard deploy --env=staging .*--dry-run$/m);
        expect(stdout).not.toContain("commands:");
        expect(stdout).not.toContain("--fetch-to");
      }
      expect(word.stdout).toBe(flag.stdout);
    },
    deadline({ cli: 2 }),
  );

  it.concurrent(
    "each command's help lists the flags it takes",
    async () => {
      const backups = await runCli(["help", "backups"]);
      expect(backups.stdout).toContain("usage: shipyard backups --env=NAME [options]");
      expect(backups.stdout).toContain("--json");
      expect(backups.stdout).not.toContain("--image");
      const lock = await runCli(["lock", "--help"]);
      expect(lock.stdout).toContain("shipyard lock status --env=prod");
    },
    deadline({ cli: 2 }),
  );

  it.concurrent(
    "`--help` and `help` print every command, exit 0",
    async () => {
      for (const args of [["--help"], ["help"]]) {
        const { exitCode, stdout } = await runCli(args);
        expect(exitCode).toBe(0);
        expect(stdout).toContain("commands:");
        expect(stdout).toContain("shipyard help <command>");
      }
    },
    deadline({ cli: 2 }),
  );
});

describe("deploy --dry-run", () => {
  it(
    "prints the plan for an SSH host that is not there, with no key, and exits 0",
    async () => {
      const { exitCode, stdout, stderr } = await runCli(
        ["deploy", "--env=remote", `--image=${IMAGE}`, "--dry-run"],
        {
          config,
          env: { SHIPYARD_SSH_KEY: "", SHIPYARD_SSH_KEY_FILE: "" },
        },
      );
      expect(exitCode, stderr).toBe(0);
      expect(stderr).toBe("");
      expect(stdout).toMatch(/^1\. preflight: docker$/m);
      expect(stdout).toContain(`docker pull ${IMAGE}`);
      // What only the host can tell is marked as such.
      expect(stdout).toContain("stop CURRENT-CONTAINER");
      expect(stdout).toContain('docker stop --time 15 "<app container id, read on the host>"');
      expect(stdout).toMatch(/first release: no backup/);
      expect(stdout).toMatch(/\d+\. unlock$/m);
    },
    deadline({ cli: 1 }),
  );
});
