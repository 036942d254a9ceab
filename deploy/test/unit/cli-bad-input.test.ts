/**
 * The CLI as a new user meets it, typing things wrong: every mistake in the command line, the
 * environments file or the run-time variables exits 2 with one line that names what to fix (or, with
 * --json, the envelope's error), before anything is done. main() runs in this process (runMain): nothing
 * here starts a process or reaches a server; integration/cli-help-and-plan.test.ts runs a few of these
 * through the real executable.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/harness/network.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { runMain } from "../support/cli.js";
import { environmentsYaml, localEntry, uncheckedEnvironmentsYaml } from "../support/environment.js";

let dir: string;
/** local, and prod whose restores need --confirm=prod; the database URL comes from SHOP_URL. */
let config: string;
const files: Record<string, string> = {};

const IMAGE = `registry.example.com/shop/app@sha256:${"a".repeat(64)}`;
const SHOP_URL = "postgres://shop:secret@127.0.0.1:1/shop";
/** An SSH host key the schema accepts; nothing is ever asked of the host. */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRoaXMgaXMgbm90IGEgcmVhbCBrZXkgYXQgYWxs";

beforeAll(async () => {
  // The CLI's modules load here, under the hook's longer timeout, not in whichever case comes first.
  await import("../../src/cli/main.js");
  dir = await makeScratchDir("cli-bad-input");
  const database = { urlEnv: "SHOP_URL" };
  const { publicUrl: _dropped, ...withoutPublicUrl } = localEntry(dir, { database });
  const texts: Record<string, string> = {
    config: environmentsYaml({
      local: localEntry(dir, { database }),
      prod: localEntry(dir, {
        database,
        stateDirectory: `${dir}/prod-state`,
        backup: { directory: `${dir}/prod-backups`, retention: { daily: 7, weekly: 4 } },
        requireConfirmation: true,
      }),
      remote: localEntry(dir, {
        database,
        target: { kind: "ssh", host: "127.0.0.1", port: await freePort(), user: "deploy", hostKey: HOST_KEY },
      }),
      // compose v1, whose logs has no --since.
      legacy: localEntry(dir, {
        database,
        compose: {
          project: "shipyard",
          directory: "compose",
          nginxConfDirectory: "n",
          cli: "docker-compose",
        },
      }),
    }),
    empty: "",
    none: "version: 1\nenvironments: {}\n",
    missing: uncheckedEnvironmentsYaml({ local: withoutPublicUrl }),
    badPort: uncheckedEnvironmentsYaml({
      local: localEntry(dir, {
        target: { kind: "ssh", host: "h", user: "deploy", port: 70000, hostKey: HOST_KEY },
      }),
    }),
    yaml: "version: [1\n",
  };
  await mkdir(`${dir}/backups`, { recursive: true });
  for (const [name, text] of Object.entries(texts)) {
    files[name] = path.join(dir, `${name}.yaml`);
    await writeFile(files[name] as string, text);
  }
  config = files.config as string;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface BadInput {
  /** What the user typed after `shipyard`. */
  args: string[];
  /** Words the one line must hold: the flag, field, command or variable to fix. */
  names: string[];
  /** Which environments file (default: the good one). */
  file?: string;
  /** Variables beside SHOP_URL (a valid URL unless overridden). */
  env?: Record<string, string>;
}

const deploy = (...more: string[]) => ["deploy", "--env=local", `--image=${IMAGE}`, ...more];

const BAD_INPUTS: [string, BadInput][] = [
  // The command.
  ["an unknown command", { args: ["bakup", "--env=local"], names: ['"bakup"', "did you mean backup?"] }],
  ["help on an unknown command", { args: ["help", "deplyo"], names: ['"deplyo"', "did you mean deploy?"] }],
  ["a stray word after a command", { args: ["backup", "now", "--env=local"], names: ['"now"', "backup"] }],
  ["a stray word after status", { args: ["status", "all", "--env=local"], names: ['"all"'] }],
  ["lock without its subcommand", { args: ["lock", "--env=local"], names: ["status or break"] }],
  ["an unknown lock subcommand", { args: ["lock", "stauts", "--env=local"], names: ['"stauts"', "status"] }],
  ["a stray word after lock status", { args: ["lock", "status", "now", "--env=local"], names: ['"now"'] }],
  // Flags.
  ["an unknown flag", { args: ["backup", "--env=local", "--jsn"], names: ["--jsn", "did you mean --json?"] }],
  [
    "a misspelled --dry-run",
    { args: ["backup", "--env=local", "--dryrun"], names: ["--dryrun", "--dry-run"] },
  ],
  ["a flag no command takes", { args: deploy("--force"), names: ["--force"] }],
  ["a short flag", { args: ["backup", "-e", "local"], names: ["-e", "did you mean --env?"] }],
  ["a short flag with a value", { args: ["restore", "--env=local", "-f=x.dump"], names: ["-f"] }],
  ["--env twice", { args: ["status", "--env=local", "--env=prod"], names: ["--env", "twice"] }],
  [
    "--dry-run twice",
    { args: ["backup", "--env=local", "--dry-run", "--dry-run"], names: ["--dry-run", "twice"] },
  ],
  ["a flag without its value", { args: ["backup", "--env"], names: ["--env needs a value"] }],
  ["a flag with an empty value", { args: ["backup", "--env="], names: ["--env needs a value"] }],
  ["a value given to a switch", { args: ["backup", "--env=local", "--dry-run=yes"], names: ["--dry-run"] }],
  [
    "--image given to backups",
    { args: ["backups", "--env=local", `--image=${IMAGE}`], names: ["--image", "backups"] },
  ],
  ["--confirm given to backup", { args: ["backup", "--env=local", "--confirm=local"], names: ["--confirm"] }],
  ["--limit given to backup", { args: ["backup", "--env=local", "--limit=3"], names: ["--limit"] }],
  ["--to given to deploy", { args: deploy("--to=r1"), names: ["--to", "deploy"] }],
  [
    "--dry-run given to status",
    { args: ["status", "--env=local", "--dry-run"], names: ["--dry-run", "status"] },
  ],
  [
    "--fetch-to given to restore",
    { args: ["restore", "--env=local", "--backup=x", "--fetch-to=x"], names: ["--fetch-to"] },
  ],
  ["a --limit that is not a count", { args: ["releases", "--env=local", "--limit=0"], names: ["--limit"] }],
  [
    "a --limit that is not a count, to audit",
    { args: ["audit", "--env=local", "--limit=x"], names: ["--limit"] },
  ],
  [
    "--dry-run given to audit",
    { args: ["audit", "--env=local", "--dry-run"], names: ["--dry-run", "audit"] },
  ],
  ["a stray word after audit", { args: ["audit", "all", "--env=local"], names: ['"all"', "audit"] }],
  ["deploy without --image", { args: ["deploy", "--env=local"], names: ["--image"] }],
  [
    "an image not pinned by digest",
    { args: ["deploy", "--env=local", "--image=shop/app:latest"], names: ["--image"] },
  ],
  ["a release name that is no plain word", { args: deploy("--release=v1; rm -rf /"), names: ["--release"] }],
  [
    "restore with both --backup and --file",
    { args: ["restore", "--env=local", "--backup=x", "--file=y"], names: ["--backup", "--file"] },
  ],
  ["upload without --backup", { args: ["upload", "--env=local"], names: ["--backup"] }],
  // logs and exec.
  [
    "an unknown service to logs",
    { args: ["logs", "--env=local", "--service=ap"], names: ['"ap"', "--service", "did you mean app?"] },
  ],
  [
    "an unknown service to exec",
    {
      args: ["exec", "--env=local", "--service=postgress", "--", "psql"],
      names: ['"postgress"', "did you mean postgres?"],
    },
  ],
  ["a --since that is no time", { args: ["logs", "--env=local", "--since=yesterday"], names: ["--since"] }],
  [
    "a timestamp --since without its zone",
    { args: ["logs", "--env=local", "--since=2026-11-23T10:00:00"], names: ["--since", "zone"] },
  ],
  ["a --since in days", { args: ["logs", "--env=local", "--since=2d"], names: ["--since=48h"] }],
  [
    "--since where compose is v1",
    { args: ["logs", "--env=legacy", "--since=10m"], names: ["--since", "docker-compose"] },
  ],
  ["a --tail that is no count", { args: ["logs", "--env=local", "--tail=ten"], names: ["--tail", '"ten"'] }],
  ["--tail with no value", { args: ["logs", "--env=local", "--tail"], names: ["--tail needs a value"] }],
  ["--follow given to exec", { args: ["exec", "--env=local", "--follow", "--", "ls"], names: ["--follow"] }],
  ["--service given to status", { args: ["status", "--env=local", "--service=app"], names: ["--service"] }],
  ["exec without its command", { args: ["exec", "--env=local"], names: ["exec needs a command", "--"] }],
  ["exec with nothing after --", { args: ["exec", "--env=local", "--"], names: ["after --"] }],
  ["exec's command before --", { args: ["exec", "--env=local", "ls"], names: ['"ls"', "before --"] }],
  [
    "a command after -- to one that runs none",
    { args: ["backup", "--env=local", "--", "now"], names: ['"now"', "backup"] },
  ],
  // Environments.
  ["no --env", { args: ["backup"], names: ["--env is required"] }],
  ["an unknown environment", { args: ["backup", "--env=prdo"], names: ['"prdo"', "did you mean prod?"] }],
  ["an environment in the wrong case", { args: ["backup", "--env=Prod"], names: ['"Prod"', "--env=prod"] }],
  // The environments file.
  [
    "an environments file that is not there",
    {
      args: ["backup", "--env=local"],
      file: "/nonexistent/environments.yaml",
      names: ["/nonexistent/environments.yaml"],
    },
  ],
  [
    "an empty environments file",
    { args: ["backup", "--env=local"], file: "empty", names: ["empty.yaml is empty"] },
  ],
  [
    "a file with no environments",
    { args: ["backup", "--env=local"], file: "none", names: ["defines no environments"] },
  ],
  [
    "a required field left out",
    { args: ["backup", "--env=local"], file: "missing", names: ["environments.local.publicUrl: required"] },
  ],
  [
    "a field out of range",
    { args: ["backup", "--env=local"], file: "badPort", names: ["environments.local.target.port"] },
  ],
  ["a file that is not YAML", { args: ["backup", "--env=local"], file: "yaml", names: ["not valid YAML"] }],
  // Run-time variables.
  [
    "no database URL",
    { args: ["backup", "--env=local"], env: { SHOP_URL: "" }, names: ["SHOP_URL is not set"] },
  ],
  [
    "a database URL that is no URL",
    { args: ["backup", "--env=local"], env: { SHOP_URL: "shop on localhost" }, names: ["SHOP_URL"] },
  ],
  [
    "a database URL of another database",
    {
      args: ["backup", "--env=local"],
      env: { SHOP_URL: "mysql://u:p@h/shop" },
      names: ["SHOP_URL", "postgres://"],
    },
  ],
  [
    "an SSH environment without a key",
    {
      args: ["status", "--env=remote"],
      env: { SHIPYARD_SSH_KEY: "", SHIPYARD_SSH_KEY_FILE: "" },
      names: ["SHIPYARD_SSH_KEY"],
    },
  ],
  // Restores.
  [
    "a restore of prod without --confirm",
    { args: ["restore", "--env=prod", "--backup=prod-x"], names: ["--confirm=prod"] },
  ],
  [
    "a restore of prod confirmed for another",
    { args: ["restore", "--env=prod", "--backup=prod-x", "--confirm=local"], names: ["--confirm=local"] },
  ],
  [
    "a backup the catalog does not hold",
    { args: ["restore", "--env=local", "--backup=local-nope"], names: ['"local-nope"'] },
  ],
  [
    "a dry-run restore of an unknown backup",
    { args: ["restore", "--env=local", "--backup=local-nope", "--dry-run"], names: ['"local-nope"'] },
  ],
];

const run = (input: BadInput) =>
  runMain(input.args, {
    config: input.file ? (files[input.file] ?? input.file) : config,
    env: { SHOP_URL, ...input.env },
  });

describe("shipyard refuses bad input with exit 2 and one line that names what to fix", () => {
  it("has at least 30 cases", () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(BAD_INPUTS)("%s", async (_, input) => {
    const { exitCode, stdout, stderr } = await run(input);
    expect(exitCode, stderr).toBe(2);
    expect(stdout).toBe("");
    const lines = stderr.split("\n").filter(Boolean);
    expect(lines, stderr).toHaveLength(1);
    for (const name of input.names) expect(lines[0]).toContain(name);
  });

  it.each(
    BAD_INPUTS.filter(([what]) =>
      [
        "an unknown flag",
        "--image given to backups",
        "an unknown environment",
        "a required field left out",
      ].includes(what),
    ),
  )("with --json: %s, in the envelope's error and nothing on stderr", async (_, input) => {
    const { exitCode, stdout, stderr } = await run({ ...input, args: [...input.args, "--json"] });
    expect(exitCode, stderr).toBe(2);
    expect(stderr).toBe("");
    const envelope = JSON.parse(stdout);
    expect(envelope).toMatchObject({ ok: false, error: { kind: expect.any(String) } });
    expect(envelope.error.message.split("\n")).toHaveLength(1);
    for (const name of input.names) expect(envelope.error.message).toContain(name);
  });

  it("logs --follow with --json: refused in the envelope, naming both", async () => {
    const { exitCode, stdout, stderr } = await run({
      args: ["logs", "--env=local", "--follow", "--json"],
      names: [],
    });
    expect(exitCode, stderr).toBe(2);
    expect(stderr).toBe("");
    const { error } = JSON.parse(stdout);
    expect(error.kind).toBe("UsageError");
    expect(error.message).toMatch(/^--follow streams lines as they come and --json prints one envelope/);
  });

  it("exec --json: refused, exec's output being its command's", async () => {
    const { exitCode, stdout } = await run({
      args: ["exec", "--env=local", "--json", "--", "ls"],
      names: [],
    });
    expect(exitCode).toBe(2);
    expect(JSON.parse(stdout).error.message).toMatch(/^--json does not apply to exec/);
  });
});
