import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ConfigError, parseEnvironments, selectEnvironment } from "../../src/config/environments.js";
import { environmentsYaml, localEntry, uncheckedEnvironmentsYaml } from "../support/environment.js";

const committed = new URL("../../environments.yaml", import.meta.url);

const local = localEntry(".shipyard", {
  stateDirectory: ".shipyard/local",
  backup: { directory: ".shipyard/backups/local", retention: { daily: 3, weekly: 1 } },
});
const minimal = environmentsYaml({ local });
/** The minimal file with one change the schema should refuse. */
const broken = (change: Record<string, unknown>) =>
  uncheckedEnvironmentsYaml({ local: { ...local, ...change } });

describe("environments file", () => {
  it("the committed file has local, staging and prod, with prod restores needing confirmation", async () => {
    const file = parseEnvironments(await readFile(committed, "utf8"), "environments.yaml");
    expect(Object.keys(file.environments)).toEqual(expect.arrayContaining(["local", "staging", "prod"]));
    const prod = selectEnvironment(file, "prod", "environments.yaml");
    expect(prod.requireConfirmation).toBe(true);
    expect(prod.target).toMatchObject({ kind: "ssh", port: 22 });
    expect(selectEnvironment(file, "local", "x").target).toEqual({ kind: "local" });
  });

  it("says where the Dagger module publishes, once for the project; the CLI needs none of it", async () => {
    const file = parseEnvironments(await readFile(committed, "utf8"), "environments.yaml");
    expect(file.image).toMatchObject({ registry: "ghcr.io", repository: "acme/shipyard" });
    expect(parseEnvironments(minimal, "f").image).toBeUndefined();
    const typo = `image: { registry: ghcr.io, repository: acme/shipyard, repo: x }\n${minimal}`;
    expect(() => parseEnvironments(typo, "envs.yaml")).toThrow(/repo/);
    const half = `image: { registry: ghcr.io }\n${minimal}`;
    expect(() => parseEnvironments(half, "envs.yaml")).toThrow(/image\.repository/);
  });

  it("fills defaults for health path and timeouts", () => {
    const env = selectEnvironment(parseEnvironments(minimal, "f"), "local", "f");
    expect(env.healthPath).toBe("/healthz");
    expect(env.timeouts).toEqual({ commandSeconds: 600, healthSeconds: 120, lockStaleMinutes: 60 });
    expect(env.backup.encryptTo).toEqual([]);
    expect(env.backup.retention).toEqual({ last: 3, daily: 3, weekly: 1 });
  });

  it("an unknown --env names it and the valid choices", () => {
    const file = parseEnvironments(minimal, "envs.yaml");
    expect(() => selectEnvironment(file, "prdo", "envs.yaml")).toThrow(
      'unknown environment "prdo"; valid environments in envs.yaml: local',
    );
    expect(() => selectEnvironment(file, undefined, "envs.yaml")).toThrow("--env is required");
  });

  it("a bad field is named with its path and what is expected", () => {
    const badPort = broken({
      target: { kind: "ssh", host: "h", user: "deploy", port: 70000, hostKey: "ssh-ed25519 AAAA" },
    });
    expect(() => parseEnvironments(badPort, "envs.yaml")).toThrow(
      /environments\.local\.target\.port: .*65535/,
    );
  });

  it("a typo in a key is an error, not silently ignored", () => {
    const { stateDirectory, ...rest } = local;
    const typo = uncheckedEnvironmentsYaml({ local: { ...rest, stateDirectroy: stateDirectory } });
    expect(() => parseEnvironments(typo, "envs.yaml")).toThrow(/stateDirectroy/);
  });

  it("an unknown target kind lists the valid ones", () => {
    const bad = broken({ target: { kind: "kubernetes" } });
    expect(() => parseEnvironments(bad, "envs.yaml")).toThrow(
      /environments\.local\.target\.kind: .*'local' \| 'ssh'/,
    );
  });

  it("a host key that is not '<type> <base64>' is refused with how to get one", () => {
    const bad = broken({ target: { kind: "ssh", host: "h", user: "deploy", hostKey: "h ssh-ed25519 AAAA" } });
    expect(() => parseEnvironments(bad, "envs.yaml")).toThrow(/hostKey: .*ssh-keyscan/);
  });

  it("a secret-looking database URL in the file is refused: the file names a variable", () => {
    const bad = broken({ database: { urlEnv: "postgres://u:pw@h/db" } });
    expect(() => parseEnvironments(bad, "envs.yaml")).toThrow(
      /database\.urlEnv: expected an environment variable name/,
    );
  });

  it("invalid YAML is reported as such", () => {
    expect(() => parseEnvironments("version: [1", "envs.yaml")).toThrow(ConfigError);
  });
});
