/**
 * Setup run against FakeRunner, a stand-in host that runs nothing and records every command: the exact
 * commands on a fresh host and on one already set up (nothing written, and it says so), that --dry-run
 * prints the steps a run takes, and where it stops when the host is not fit.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { Command } from "../../src/commands/argv.js";
import { selfSignedCertificate } from "../../src/commands/certificate.js";
import { checkComposeConfig, composeVersion } from "../../src/commands/compose.js";
import {
  listArchive,
  packBundle,
  removeSnapshot,
  snapshotConfig,
  unpackBundle,
} from "../../src/commands/config.js";
import { dockerVersion } from "../../src/commands/docker.js";
import { makeDirectories, presentPaths, readSettings, writeNewFile } from "../../src/commands/files.js";
import { acquireLock, lockHolderSchema, releaseLock } from "../../src/commands/lock.js";
import { swarmUpstreamConf, upstreamConf } from "../../src/commands/nginx.js";
import { checkStackRenders, stackSecrets, swarmState } from "../../src/commands/swarm.js";
import type { Environment } from "../../src/config/environments.js";
import { Progress } from "../../src/progress.js";
import { runSetup, type SetupContext, setupPlan, setupReport } from "../../src/setup/setup.js";
import { STACK_SECRETS } from "../../src/setup/stack-env.js";
import { environmentFrom, localEntry } from "../support/environment.js";
import { type Answer, FakeRunner } from "../support/fake-runner.js";

const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
const TEMPLATE = readFileSync(path.join(REPO_ROOT, "compose/.env.example"), "utf8");

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJJQO9U4xiAIDiuV1MZH7Sg9AAGSD3J+2ljtZA70ZoCX";
const PROD = {
  ...localEntry("/unused"),
  target: { kind: "ssh" as const, host: "prod.example.com", user: "deploy", hostKey: HOST_KEY },
  compose: { project: "shop", directory: "/srv/shop/compose", nginxConfDirectory: "/srv/shop/nginx/conf.d" },
  stateDirectory: "/srv/shop/state",
  publicUrl: "https://prod.example.com",
};
const env = environmentFrom("prod", PROD);
const state = env.stateDirectory;
const DIRECTORIES = ["/srv/shop/compose", "/srv/shop/nginx/conf.d", "/srv/shop/state"];
const ENV_FILE = "/srv/shop/compose/.env";
const UPSTREAM = "/srv/shop/nginx/conf.d/upstream.conf";
const LOOKED = [...DIRECTORIES, "/srv/shop/compose/compose.yaml", ENV_FILE, UPSTREAM];
const CERTS = ["/srv/shop/compose/certs/fullchain.pem", "/srv/shop/compose/certs/privkey.pem"];
const EVERYTHING = [...LOOKED, ...CERTS];
const shipment = { source: "/repo", files: ["compose/compose.yaml", "nginx/conf.d/upstream.conf"] };
const snapshot = `${state}/config-before-setup.tar`;
const line = (c: Command) => c.argv.join(" ");

/** A host that has `has` (paths), answers as docker, compose and the shell would, and `answers` first. */
function scene(
  has: readonly string[],
  answers: (c: Command) => Answer = () => undefined,
  environment: Environment = env,
) {
  const stderr: string[] = [];
  const progress = new Progress((text) => stderr.push(text));
  const host = new FakeRunner((c) => {
    const special = answers(c);
    if (special) return special;
    const text = line(c);
    if (text === line(dockerVersion())) return { stdout: "27.3.1\n" };
    if (text === line(composeVersion(environment))) return { stdout: "Docker Compose version v2.29.7\n" };
    if (text === line(presentPaths(LOOKED)) || text === line(presentPaths(CERTS)))
      return {
        stdout: c.argv
          .slice(4)
          .filter((p) => has.includes(p))
          .map((p) => `${p}\n`)
          .join(""),
      };
    if (text === line(readSettings(ENV_FILE, ["NGINX_IMAGE", "TLS_CERT_DIR"])))
      return { stdout: "TLS_CERT_DIR=./certs\n" };
    return undefined;
  });
  const local = new FakeRunner(() => undefined, "local");
  let secrets = 0;
  const ctx: SetupContext = {
    environment,
    runner: host,
    local,
    progress,
    who: "ops",
    config: shipment,
    envTemplate: TEMPLATE,
    secret: () => `secret${++secrets}`.padEnd(48, "x"),
  };
  return { ctx, host, local, stderr };
}

function token(host: FakeRunner): string {
  const acquire = host.ran.find((c) => line(c) === line(acquireLock(state, holder)));
  return lockHolderSchema.parse(JSON.parse(acquire?.stdin ?? "")).token;
}
const holder = { holder: "ops", purpose: "setup", since: "2026-11-23T10:00:00.000Z", token: "x".repeat(8) };

describe("setup, run against FakeRunner", () => {
  it("on a fresh host: makes every item, exactly these commands in this order, the secrets only on stdin", async () => {
    const { ctx, host, local } = scene([]);
    const facts = await runSetup(ctx);

    const bundle = local.ran[0]?.argv[3] ?? "";
    expect(local.lines).toEqual([line(packBundle("/repo", ["compose/compose.yaml"], bundle))]);
    expect(host.lines).toEqual(
      [
        dockerVersion(),
        composeVersion(env),
        presentPaths(LOOKED),
        presentPaths(CERTS),
        acquireLock(state, holder),
        makeDirectories(DIRECTORIES),
        snapshotConfig("/srv/shop", ["compose/compose.yaml"], snapshot),
        listArchive(snapshot),
        unpackBundle("/srv/shop", bundle),
        removeSnapshot(snapshot),
        writeNewFile(ENV_FILE, "", "600"),
        writeNewFile(UPSTREAM, "", "644"),
        selfSignedCertificate("/srv/shop/compose/certs", "nginx:stable", "prod.example.com"),
        checkComposeConfig(env),
        releaseLock(state, token(host)),
      ].map(line),
    );
    // The upstream is setup's own step (never over one), not the bundle's seed.
    expect(host.lines.join("\n")).not.toContain("--skip-old-files");

    const envWrite = host.ran.find((c) => line(c) === line(writeNewFile(ENV_FILE, "", "600")));
    const written = envWrite?.stdin ?? "";
    for (const name of STACK_SECRETS) expect(written).toMatch(new RegExp(`^${name}=secret\\d+x+$`, "m"));
    // Everything else as the example has it: nginx on 0.0.0.0:80/443, as publicUrl says.
    expect(written).toMatch(/^BIND_ADDRESS=0\.0\.0\.0$/m);
    expect(written).toMatch(/^HTTPS_PORT=443$/m);
    for (const c of host.ran) expect(c.argv.join(" ")).not.toContain("secret1");
    expect(host.ran.find((c) => line(c) === line(writeNewFile(UPSTREAM, "", "644")))?.stdin).toBe(
      upstreamConf("app"),
    );

    expect(setupReport(env, facts)).toEqual(
      [
        ["compose directory", "/srv/shop/compose"],
        ["nginx conf directory", "/srv/shop/nginx/conf.d"],
        ["state directory", "/srv/shop/state"],
        ["configuration", "/srv/shop/compose/compose.yaml"],
        ["compose/.env", ENV_FILE],
        ["nginx upstream", UPSTREAM],
        ["TLS certificate", "/srv/shop/compose/certs"],
      ].map(([item, path]) => ({ item, path, state: "created" })),
    );
    expect(facts).toMatchObject({ engine: "27.3.1", compose: "Docker Compose version v2.29.7" });
  });

  it("on a host set up already: writes nothing, and says so for every item", async () => {
    const { ctx, host, local } = scene(EVERYTHING);
    const facts = await runSetup(ctx);
    expect(local.ran).toEqual([]);
    expect(host.lines).toEqual(
      [
        dockerVersion(),
        composeVersion(env),
        presentPaths(LOOKED),
        readSettings(ENV_FILE, ["NGINX_IMAGE", "TLS_CERT_DIR"]),
        presentPaths(CERTS),
        acquireLock(state, holder),
        checkComposeConfig(env),
        releaseLock(state, token(host)),
      ].map(line),
    );
    expect(host.ran.filter((c) => c.stdin !== undefined && !line(c).includes("shipyard-lock"))).toEqual([]);
    expect(setupReport(env, facts).map((r) => r.state)).toEqual(Array(7).fill("already set up"));
  });

  it("makes only what is missing: here the certificate and the upstream", async () => {
    const { ctx, host } = scene(EVERYTHING.filter((p) => p !== UPSTREAM && !CERTS.includes(p)));
    const facts = await runSetup(ctx);
    const changed = host.lines.slice(host.lines.indexOf(line(acquireLock(state, holder))) + 1, -2);
    expect(changed).toEqual(
      [
        writeNewFile(UPSTREAM, "", "644"),
        selfSignedCertificate("/srv/shop/compose/certs", "nginx:stable", "prod.example.com"),
      ].map(line),
    );
    expect(
      setupReport(env, facts)
        .filter((r) => r.state === "created")
        .map((r) => r.item),
    ).toEqual(["nginx upstream", "TLS certificate"]);
  });

  it("puts the certificate where the host's compose/.env says, made with the nginx image it names", async () => {
    const { ctx, host } = scene(LOOKED, (c) =>
      c.argv[0] === "grep"
        ? { stdout: "NGINX_IMAGE=mirror.internal/nginx:1.27\nTLS_CERT_DIR=/etc/shop-tls\n" }
        : undefined,
    );
    await runSetup(ctx);
    expect(host.lines).toContain(
      line(presentPaths(["/etc/shop-tls/fullchain.pem", "/etc/shop-tls/privkey.pem"])),
    );
    expect(host.lines).toContain(
      line(selfSignedCertificate("/etc/shop-tls", "mirror.internal/nginx:1.27", "prod.example.com")),
    );
  });

  it("takes the very steps --dry-run prints, in the same order", async () => {
    for (const has of [[], EVERYTHING]) {
      const run = scene(has);
      await runSetup(run.ctx);
      const plan = await setupPlan(scene(has).ctx, holder);
      expect(run.ctx.progress.steps.map((s) => s.step)).toEqual(plan.map((s) => s.step));
    }
  });

  it("stops at a Docker engine too old for the stack, before the lock, having changed nothing", async () => {
    const { ctx, host } = scene([], (c) =>
      line(c) === line(dockerVersion()) ? { stdout: "19.03.15\n" } : undefined,
    );
    await expect(runSetup(ctx)).rejects.toThrow(
      "Docker engine 19.03.15 is too old: the stack needs 20.10.0 or newer",
    );
    expect(host.ran).toHaveLength(1);
  });

  it("stops at half a certificate, before the lock: it is someone's, neither made over nor taken for one", async () => {
    const { ctx, host } = scene([CERTS[1] as string]);
    await expect(runSetup(ctx)).rejects.toThrow(
      `${CERTS[1]} is there without ${CERTS[0]}: complete or remove it, then run setup again`,
    );
    expect(host.lines.some((l) => l.includes("shipyard-lock"))).toBe(false);
  });

  it("a failed step: what was made stays, nothing is undone, the lock is released, and it says to run again", async () => {
    const { ctx, host } = scene([], (c) =>
      line(c) === line(selfSignedCertificate("/srv/shop/compose/certs", "nginx:stable", "prod.example.com"))
        ? new Error("pull access denied for nginx")
        : undefined,
    );
    await expect(runSetup(ctx)).rejects.toThrow(
      'setup of prod failed at "make a temporary certificate": pull access denied for nginx\n' +
        "  what it made stays; run setup again once this is fixed: it makes only what is missing",
    );
    expect(host.lines.at(-1)).toBe(line(releaseLock(state, token(host))));
  });
});

describe("setup on a swarm manager, run against FakeRunner", () => {
  // The same host as a swarm's manager: only the target differs.
  const swarm = environmentFrom("prod", {
    ...PROD,
    target: { kind: "swarm", host: "manager.example.com", user: "deploy", hostKey: HOST_KEY },
  });
  /** A manager whose swarm has `secrets` (docker secret inspect's JSON) and whose compose renders as compose.yaml does. */
  const manager = (has: readonly string[], secrets: string) =>
    scene(
      has,
      (c) => {
        const text = line(c);
        if (text === line(swarmState())) return { stdout: "active true\n" };
        if (text === line(stackSecrets("shop"))) return { stdout: secrets };
        if (c.argv.includes("shipyard-render")) {
          const given = Object.fromEntries(
            (c.stdin ?? "")
              .trim()
              .split("\n")
              .map((l) => l.split("=")),
          );
          const url = `postgres://app:${given.POSTGRES_PASSWORD}@postgres:5432/app`;
          return {
            stdout: stringify({
              services: {
                app: {
                  environment: {
                    DATABASE_URL: url,
                    REDIS_URL: `redis://:${given.REDIS_PASSWORD}@redis:6379/0`,
                    ADMIN_TOKEN: given.ADMIN_TOKEN,
                  },
                },
                migrate: { environment: { DATABASE_URL: url } },
                postgres: { environment: { POSTGRES_PASSWORD: given.POSTGRES_PASSWORD } },
                redis: { environment: { REDISCLI_AUTH: given.REDIS_PASSWORD } },
              },
            }),
          };
        }
        return undefined;
      },
      swarm,
    );

  it("writes compose/.env with no secret and makes the swarm's secrets, every value on stdin only", async () => {
    const { ctx, host } = manager([], "[]\n");
    const facts = await runSetup({ ...ctx, given: { ADMIN_TOKEN: "from-the-environment-0123" } });
    const written = host.ran.find((c) => line(c) === line(writeNewFile(ENV_FILE, "", "600")))?.stdin ?? "";
    for (const name of STACK_SECRETS) expect(written).toMatch(new RegExp(`^${name}=$`, "m"));
    expect(host.ran.find((c) => line(c) === line(writeNewFile(UPSTREAM, "", "644")))?.stdin).toBe(
      swarmUpstreamConf("app", 3000),
    );
    const made = host.ran.filter((c) => c.argv.includes("shipyard-secret"));
    expect(made.map((c) => c.argv.at(-1))).toEqual([
      "DATABASE_URL",
      "REDIS_URL",
      "ADMIN_TOKEN",
      "POSTGRES_PASSWORD",
      "REDISCLI_AUTH",
    ]);
    expect(made.map((c) => c.stdin)).toContain("from-the-environment-0123");
    expect(made.find((c) => c.argv.at(-1) === "DATABASE_URL")?.stdin).toMatch(
      /^postgres:\/\/app:secret\d+x+@postgres:5432\/app$/,
    );
    for (const c of host.ran) expect(c.argv.join(" ")).not.toMatch(/secret\d+x|from-the-environment/);
    // Checked as a deploy renders it: placeholders, no secret.
    expect(host.lines.at(-2)).toBe(line(checkStackRenders(swarm)));
    expect(setupReport(swarm, facts).at(-1)).toEqual({
      item: "Swarm secrets",
      path: "the swarm, stack shop",
      state: "created",
    });
  });

  it("leaves the swarm's secrets alone once the stack has them", async () => {
    const { ctx, host } = manager(
      EVERYTHING,
      JSON.stringify([
        { Spec: { Name: "shop_admin_token_1", Labels: { "shipyard.variable": "ADMIN_TOKEN" } } },
      ]),
    );
    const facts = await runSetup(ctx);
    expect(
      host.ran.filter((c) => c.argv.includes("shipyard-secret") || c.argv.includes("shipyard-render")),
    ).toEqual([]);
    expect(setupReport(swarm, facts).every((r) => r.state === "already set up")).toBe(true);
  });

  it("stops on a node that is not a manager, before the lock", async () => {
    const { ctx, host } = scene(
      [],
      (c) => (line(c) === line(swarmState()) ? { stdout: "active false\n" } : undefined),
      swarm,
    );
    await expect(runSetup(ctx)).rejects.toThrow("is a Swarm worker, not a manager");
    expect(host.lines.join("\n")).not.toContain("shipyard-lock");
  });
});
