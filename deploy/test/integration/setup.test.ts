/**
 * `shipyard setup` for real: the CLI as a process, a local environment whose host is a scratch directory,
 * real tar, mkdir, the lock and openssl, and a stand-in `docker` on PATH (support/fake-docker.ts) for the
 * engine this test may not use. A fresh host is set up with the secrets kept out of every argv (`ps` taken
 * while each file is written) and out of the output; a second run changes nothing and says so.
 */
import { existsSync } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { STACK_SECRETS } from "../../src/setup/stack-env.js";
import { runCli } from "../support/cli.js";
import { localEntry, writeEnvironmentsFile } from "../support/environment.js";
import { type FakeDocker, fakeDocker } from "../support/fake-docker.js";

let dir: string;
let host: string;
let config: string;
let docker: FakeDocker;

beforeAll(async () => {
  dir = await makeScratchDir("setup");
  host = path.join(dir, "host");
  docker = await fakeDocker(dir);
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    fresh: localEntry(dir, {
      compose: { project: "shop", directory: `${host}/compose`, nginxConfDirectory: `${host}/nginx/conf.d` },
      stateDirectory: `${host}/state`,
    }),
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const setup = (...args: string[]) =>
  runCli(["setup", "--env=fresh", ...args], { config, env: { PATH: docker.path, SHIPYARD_WHO: "ops@test" } });
const envFile = () => path.join(host, "compose/.env");
const secretsOf = (text: string) =>
  STACK_SECRETS.map((name) => new RegExp(`^${name}=(.+)$`, "m").exec(text)?.[1] ?? "");

describe("setup on a fresh host", () => {
  it("--dry-run looks at the host, prints every step a run takes, and makes nothing", async () => {
    const run = await setup("--dry-run");
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^1\. preflight: docker\n/);
    expect(run.stdout).toMatch(/\d+\. write compose\/\.env\n.*shipyard-new-file \S+\/compose\/\.env 600\n/);
    expect(run.stdout).toContain("make a temporary certificate");
    expect(existsSync(host)).toBe(false);
  });

  it("makes every item: compose/.env 0600 with fresh secrets that no argv and no output showed", async () => {
    const run = await setup();
    expect(run.exitCode, run.stderr).toBe(0);
    const env = await readFile(envFile(), "utf8");
    expect((await stat(envFile())).mode & 0o777).toBe(0o600);
    const secrets = secretsOf(env);
    for (const secret of secrets) expect(secret).toMatch(/^[0-9a-f]{48}$/);
    // nginx listens where publicUrl (https://127.0.0.1:8443) says.
    expect(env).toMatch(/^BIND_ADDRESS=127\.0\.0\.1$/m);
    expect(env).toMatch(/^HTTPS_PORT=8443$/m);

    const ps = await readFile(docker.psLog, "utf8");
    // `ps` was taken while compose/.env was written: the writing command is there, its secrets are not.
    expect(ps).toMatch(/shipyard-new-file \S+\/compose\/\.env 600/);
    for (const secret of secrets) {
      expect(ps).not.toContain(secret);
      expect(await readFile(docker.log, "utf8")).not.toContain(secret);
      expect(run.stdout + run.stderr).not.toContain(secret);
    }

    expect(run.stdout).toContain(`created: compose/.env (${envFile()})`);
    expect(run.stdout).toMatch(/^fresh on local is ready for its first deploy: /m);
    expect(await readFile(path.join(host, "compose/compose.yaml"), "utf8")).toContain("services:");
    expect(await readFile(path.join(host, "nginx/conf.d/upstream.conf"), "utf8")).toContain(
      "server app:3000",
    );
    // The certificate: openssl ran as in the container, the key 0600 and nginx's (uid 101).
    const key = await stat(path.join(host, "compose/certs/privkey.pem"));
    expect([key.mode & 0o777, key.uid]).toEqual([0o600, 101]);
    expect(existsSync(path.join(host, "compose/certs/fullchain.pem"))).toBe(true);
    expect(existsSync(path.join(host, "state/config-before-setup.tar"))).toBe(false);
    expect(existsSync(path.join(host, "state/deploy.lock"))).toBe(false);
  });

  it("a second run changes nothing and says so for every item", async () => {
    const before = { env: await stat(envFile()), text: await readFile(envFile(), "utf8") };
    const dockerLog = (await readFile(docker.log, "utf8")).length;
    const psTaken = (await readFile(docker.psLog, "utf8")).length;

    const run = await setup("--json");
    expect(run.exitCode, run.stderr).toBe(0);
    const { result } = JSON.parse(run.stdout) as { result: { items: { item: string; state: string }[] } };
    expect(result.items.map((i) => i.state)).toEqual(Array(8).fill("already set up"));
    for (const secret of secretsOf(before.text)) expect(run.stdout + run.stderr).not.toContain(secret);

    const after = await stat(envFile());
    expect([after.ino, after.mtimeMs]).toEqual([before.env.ino, before.env.mtimeMs]);
    expect(await readFile(envFile(), "utf8")).toBe(before.text);
    // No file was linked into place, and docker was asked only for its versions and compose's check.
    expect((await readFile(docker.psLog, "utf8")).length).toBe(psTaken);
    const calls = (await readFile(docker.log, "utf8")).slice(dockerLog).split("\n").filter(Boolean);
    expect(calls.map((c) => c.split(" ").at(-1))).toEqual(["{{.Server.Version}}", "version", "--quiet"]);

    const text = await setup();
    expect(text.stdout).toContain(`already set up: compose/.env (${envFile()})`);
    expect(text.stdout).toMatch(/^nothing changed: fresh on local was set up already$/m);
  });
});
