/** How the deploy functions call the deploy CLI: argv, secrets and resources as data, and reading its answer. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  backupFilePath,
  checkDeployerAccess,
  type DeployerInput,
  deployerOutcome,
  deployerWiring,
  FETCHED_BACKUP_PATH,
  RESTORE_FILE_PATH,
  SSH_KEY_PATH,
  scratchDatabaseUrl,
} from "../src/lib/deployer.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const digest = `sha256:${"ab".repeat(32)}`;
const overSsh = {
  env: "prod",
  environment: { targetKind: "ssh", urlEnv: "DATABASE_URL" },
  hasSshKey: true,
  hasDockerSocket: false,
  hasDatabaseUrl: false,
} as const;

describe("the CLI call", () => {
  it("deploys the published image by digest, as a person would run it", () => {
    const wiring = deployerWiring({ ...overSsh, command: "deploy", image: `ghcr.io/acme/shop@${digest}` });
    expect(wiring.argv).toEqual([
      "npm",
      "run",
      "--silent",
      "shipyard",
      "--",
      "deploy",
      "--env=prod",
      `--image=ghcr.io/acme/shop@${digest}`,
      "--json",
    ]);
    expect(
      deployerWiring({ ...overSsh, command: "deploy", image: `a@${digest}`, release: "v1.4" }).argv,
    ).toContain("--release=v1.4");
  });

  it("passes rollback's target and restore's file and confirmation, and nothing else", () => {
    expect(deployerWiring({ ...overSsh, command: "rollback", to: "20261123-1200" }).argv.slice(5)).toEqual([
      "rollback",
      "--env=prod",
      "--to=20261123-1200",
      "--json",
    ]);
    expect(deployerWiring({ ...overSsh, command: "rollback", to: "" }).argv.slice(5)).toEqual([
      "rollback",
      "--env=prod",
      "--json",
    ]);
    expect(
      deployerWiring({ ...overSsh, command: "restore", confirm: "prod", hasDatabaseUrl: true }).argv.slice(5),
    ).toEqual(["restore", "--env=prod", `--file=${RESTORE_FILE_PATH}`, "--confirm=prod", "--json"]);
  });

  it("has backup copy the verified file into the deployer, from the server when it is kept there", () => {
    expect(deployerWiring({ ...overSsh, command: "backup" }).argv.slice(5)).toEqual([
      "backup",
      "--env=prod",
      `--fetch-to=${FETCHED_BACKUP_PATH}`,
      "--json",
    ]);
    expect(deployerWiring({ ...overSsh, command: "status" }).argv.slice(5)).toEqual([
      "status",
      "--env=prod",
      "--json",
    ]);
    expect(deployerWiring({ ...overSsh, command: "setup" }).argv.slice(5)).toEqual([
      "setup",
      "--env=prod",
      "--json",
    ]);
  });

  it("passes audit's --limit and logs' --service, --since and --tail only when given, trimmed, for the CLI to check", () => {
    expect(deployerWiring({ ...overSsh, command: "audit" }).argv.slice(5)).toEqual([
      "audit",
      "--env=prod",
      "--json",
    ]);
    expect(deployerWiring({ ...overSsh, command: "audit", limit: " 50 " }).argv.slice(5)).toEqual([
      "audit",
      "--env=prod",
      "--limit=50",
      "--json",
    ]);
    expect(
      deployerWiring({ ...overSsh, command: "logs", service: "", since: "", tail: "" }).argv.slice(5),
    ).toEqual(["logs", "--env=prod", "--json"]);
    expect(
      deployerWiring({ ...overSsh, command: "logs", service: "nginx", since: "15m", tail: "all" }).argv.slice(
        5,
      ),
    ).toEqual(["logs", "--env=prod", "--service=nginx", "--since=15m", "--tail=all", "--json"]);
  });
});

describe("what the deployer container is given", () => {
  it("the SSH key only as a mounted file the CLI is pointed at, never a value in the environment", () => {
    const wiring = deployerWiring({ ...overSsh, command: "backup" });
    expect(wiring.mountSshKey).toBe(true);
    expect(wiring.variables.SHIPYARD_SSH_KEY_FILE).toBe(SSH_KEY_PATH);
    expect(Object.keys(wiring.variables)).not.toContain("SHIPYARD_SSH_KEY");
    expect(wiring.mountDockerSocket).toBe(false);
  });

  it("the database URL as a secret under the variable the environment's database.urlEnv names, only when given", () => {
    expect(deployerWiring({ ...overSsh, command: "backup" }).secretVariables.databaseUrl).toBeUndefined();
    const wiring = deployerWiring({
      ...overSsh,
      command: "backup",
      hasDatabaseUrl: true,
      environment: { targetKind: "ssh", urlEnv: "PROD_DATABASE_URL" },
    });
    expect(wiring.secretVariables.databaseUrl).toBe("PROD_DATABASE_URL");
  });

  it("a scratch Postgres for every command that takes a verified backup; none for setup, status, audit and logs", () => {
    for (const command of ["backup", "rollback"] as const) {
      const wiring = deployerWiring({ ...overSsh, command });
      expect(wiring.scratchPostgres).toBe(true);
      expect(wiring.secretVariables.scratchDatabaseUrl).toBe("SHIPYARD_SCRATCH_DATABASE_URL");
    }
    for (const command of ["setup", "status", "audit", "logs"] as const) {
      const wiring = deployerWiring({
        ...overSsh,
        command,
        hasS3AccessKeyId: true,
        hasS3SecretAccessKey: true,
        hasWebhookUrl: true,
        environment: { ...overSsh.environment, webhookUrlEnv: "SHIPYARD_WEBHOOK_URL" },
      });
      expect(wiring.scratchPostgres, command).toBe(false);
      expect(wiring.secretVariables, command).toEqual({});
    }
  });

  it("no scratch Postgres for an environment whose backups are made and checked on the server", () => {
    for (const command of ["backup", "rollback", "deploy", "restore"] as const) {
      const wiring = deployerWiring({
        ...overSsh,
        environment: { ...overSsh.environment, backupsOnServer: true },
        command,
        image: "registry.example.com/shop@sha256:" + "a".repeat(64),
      } as DeployerInput);
      expect(wiring.scratchPostgres, command).toBe(false);
      expect(wiring.secretVariables.scratchDatabaseUrl, command).toBeUndefined();
    }
  });

  it("the off-site store's key pair as secrets under the names S3 tools read, for commands that back up", () => {
    const keys = { hasS3AccessKeyId: true, hasS3SecretAccessKey: true };
    expect(deployerWiring({ ...overSsh, ...keys, command: "backup" }).secretVariables).toMatchObject({
      s3AccessKeyId: "AWS_ACCESS_KEY_ID",
      s3SecretAccessKey: "AWS_SECRET_ACCESS_KEY",
    });
    expect(
      deployerWiring({ ...overSsh, ...keys, command: "status" }).secretVariables.s3AccessKeyId,
    ).toBeUndefined();
    expect(deployerWiring({ ...overSsh, command: "backup" }).secretVariables.s3AccessKeyId).toBeUndefined();
  });

  it("the local environment gets the host's Docker socket instead of a key, and runs the CLI on the host", () => {
    const wiring = deployerWiring({
      ...overSsh,
      command: "backup",
      env: "local",
      environment: { targetKind: "local", urlEnv: "DATABASE_URL" },
      hasSshKey: false,
      hasDockerSocket: true,
      hasDatabaseUrl: true,
      hostPath: "/home/dev/shop",
    });
    expect(wiring.mountDockerSocket).toBe(true);
    expect(wiring.mountSshKey).toBe(false);
    expect(wiring.variables.SHIPYARD_SSH_KEY_FILE).toBeUndefined();
    expect(wiring.onHost).toEqual({ hostPath: "/home/dev/shop" });
    // No Dagger service reaches a process on the host: no scratch Postgres is bound for it.
    expect(wiring.scratchPostgres).toBe(false);
    expect(wiring.argv.slice(0, 4)).toEqual([
      "sh",
      "/src/deploy/bin/run-on-host.sh",
      "/run/shipyard/deployer.tar",
      "shipyard-deployer:current",
    ]);
    expect(wiring.argv).toContain("--volume=/home/dev/shop:/home/dev/shop");
    // The database URL is handed on by name, its value only in the launcher's secret variable.
    expect(wiring.secretVariables.databaseUrl).toBe("DATABASE_URL");
    expect(wiring.argv.join(" ")).toContain("--env DATABASE_URL ");
    expect(wiring.argv.slice(-3)).toEqual(["backup", "--env=local", "--json"]);
  });

  it("setup's admin token as a secret under ADMIN_TOKEN, which setup reads; no other command gets it", () => {
    const withToken = { ...overSsh, hasAdminToken: true };
    expect(deployerWiring({ ...withToken, command: "setup" }).secretVariables.adminToken).toBe("ADMIN_TOKEN");
    expect(deployerWiring({ ...withToken, command: "status" }).secretVariables.adminToken).toBeUndefined();
    expect(deployerWiring({ ...overSsh, command: "setup" }).secretVariables.adminToken).toBeUndefined();
  });

  it("the webhook's URL as a secret under the environment's notify.webhookUrlEnv, for the commands that notify", () => {
    const notifying = {
      ...overSsh,
      environment: { ...overSsh.environment, webhookUrlEnv: "SHOP_WEBHOOK_URL" },
      hasWebhookUrl: true,
    };
    for (const command of [
      { command: "deploy", image: `a@${digest}` },
      { command: "backup" },
      { command: "rollback" },
    ] as const) {
      const wiring = deployerWiring({ ...notifying, ...command });
      expect(wiring.secretVariables.webhookUrl, command.command).toBe("SHOP_WEBHOOK_URL");
      // By name only: never in the argv nor among the plain variables.
      expect(wiring.argv.join(" "), command.command).not.toContain("SHOP_WEBHOOK_URL");
      expect(Object.keys(wiring.variables), command.command).not.toContain("SHOP_WEBHOOK_URL");
    }
    for (const command of ["status", "setup"] as const)
      expect(deployerWiring({ ...notifying, command }).secretVariables.webhookUrl, command).toBeUndefined();
    // Without --webhook-url the CLI warns that the variable is unset, and notifies no one.
    expect(
      deployerWiring({ ...notifying, hasWebhookUrl: false, command: "backup" }).secretVariables.webhookUrl,
    ).toBeUndefined();
  });

  it("for local, the webhook's URL is handed to the CLI's container on the host by name only", () => {
    const wiring = deployerWiring({
      ...overSsh,
      command: "backup",
      env: "local",
      environment: { targetKind: "local", urlEnv: "DATABASE_URL", webhookUrlEnv: "SHOP_WEBHOOK_URL" },
      hasSshKey: false,
      hasDockerSocket: true,
      hasWebhookUrl: true,
      hostPath: "/home/dev/shop",
    });
    expect(wiring.secretVariables.webhookUrl).toBe("SHOP_WEBHOOK_URL");
    const at = wiring.argv.indexOf("SHOP_WEBHOOK_URL");
    expect(wiring.argv[at - 1]).toBe("--env");
  });

  it("the scratch server's URL names its service and escapes the password", () => {
    expect(scratchDatabaseUrl("a/b+c")).toBe("postgres://shipyard:a%2Fb%2Bc@scratch-postgres:5432/scratch");
  });
});

describe("bad arguments are named by their flag", () => {
  const bad = (input: Partial<DeployerInput>) => () =>
    deployerWiring({ ...overSsh, command: "status", ...input } as DeployerInput);

  const local = {
    env: "laptop",
    environment: { targetKind: "local", urlEnv: "DATABASE_URL" } as const,
    hasSshKey: false,
  };
  it.each([
    [{ env: " " }, /--env: must name an environment/],
    [local, /--docker-socket: "laptop" runs on the host's Docker engine \(target.kind: local\)/],
    [
      { ...local, hasDockerSocket: true },
      /--host-path: "laptop" uses the host's files \(target.kind: local\): must be the checkout's absolute path/,
    ],
    [{ ...local, hasDockerSocket: true, hostPath: "relative/shop" }, /--host-path: .*pass --host-path=\$PWD/],
    [
      { ...local, hasDockerSocket: true, hostPath: "/home/dev/shop", dockerSocketPath: "docker.sock" },
      /--docker-socket-path: must be the absolute path --docker-socket names/,
    ],
    [{ hasSshKey: false }, /--ssh-key: "prod" is reached over SSH \(target.kind: ssh\)/],
    [
      { env: "local", hasSshKey: false, hasDockerSocket: true },
      /--ssh-key: "local" is reached over SSH \(target.kind: ssh\)/,
    ],
    [{ hasS3AccessKeyId: true }, /--s3-secret-access-key: the off-site store's key is a pair/],
    [{ hasS3SecretAccessKey: true }, /--s3-access-key-id: the off-site store's key is a pair/],
    [
      { hasWebhookUrl: true },
      /--webhook-url: "prod" has no notify.webhookUrlEnv in deploy\/environments.yaml to hand the URL to/,
    ],
  ])("%o", (input, message) => {
    expect(bad(input)).toThrow(message);
  });

  it("the access arguments alone, before anything runs (deploy checks them before it publishes)", () => {
    expect(() => checkDeployerAccess({ ...overSsh, hasSshKey: false })).toThrow(/--ssh-key:/);
    expect(() => checkDeployerAccess(overSsh)).not.toThrow();
  });
});

describe("what the CLI checks goes to it as given", () => {
  it("the image, the release name, the release to roll back to and the confirmation: the CLI refuses them, not the module", () => {
    expect(
      deployerWiring({ ...overSsh, command: "deploy", image: "ghcr.io/acme/shop:latest" }).argv,
    ).toContain("--image=ghcr.io/acme/shop:latest");
    expect(
      deployerWiring({ ...overSsh, command: "deploy", image: `a@${digest}`, release: "../etc" }).argv,
    ).toContain("--release=../etc");
    expect(deployerWiring({ ...overSsh, command: "rollback", to: "a b" }).argv).toContain("--to=a b");
    expect(deployerWiring({ ...overSsh, command: "restore", confirm: "staging" }).argv).toContain(
      "--confirm=staging",
    );
  });
});

describe("the CLI's answer", () => {
  it("a success returns its JSON; a failure says what failed, which steps ran, and the end of the log", () => {
    const ok = deployerOutcome(0, '{"ok":true,"command":"backup","result":{"path":"/src/b.dump"}}', "");
    expect(ok.ok).toBe(true);
    expect(backupFilePath(ok.result, { encryptsBackups: false })).toBe("/src/b.dump");
    // Kept on the server: the copy the CLI fetched into the deployer is the file to return.
    expect(
      backupFilePath(
        { path: "/srv/state/backups/b.dump", fetchedTo: FETCHED_BACKUP_PATH },
        { encryptsBackups: false },
      ),
    ).toBe(FETCHED_BACKUP_PATH);

    const failed = deployerOutcome(
      1,
      JSON.stringify({
        ok: false,
        command: "deploy",
        steps: [
          { step: "lock", ok: true, ms: 3 },
          { step: "health", ok: false, ms: 9 },
        ],
        error: { kind: "Error", message: "v3 never became healthy; rolled back to v2" },
      }),
      "→ lock\n✓ lock\n→ health\n✗ health",
    );
    expect(failed.ok).toBe(false);
    expect(failed.summary).toBe(
      "deploy failed (exit 1): v3 never became healthy; rolled back to v2\nsteps:\n✓ lock\n✗ health\nlog:\n→ lock\n✓ lock\n→ health\n✗ health",
    );
  });

  it("a run that printed no JSON is a failure explained by its stderr", () => {
    const crashed = deployerOutcome(127, "", "sh: 1: tsx: not found");
    expect(crashed.ok).toBe(false);
    expect(crashed.summary).toBe("the deploy CLI exited 127 without a JSON answer:\nsh: 1: tsx: not found");
    expect(() => backupFilePath({ backup: {} }, { encryptsBackups: false })).toThrow(/names no file/);
  });

  it("for an environment with backup.encryptTo, returns the age-encrypted file and refuses a plain one", () => {
    const encrypts = { encryptsBackups: true };
    const stored = { path: "/src/.shipyard/backups/prod/prod-1.dump.age", backup: { encrypted: true } };
    expect(backupFilePath(stored, encrypts)).toBe(stored.path);
    // Named by the catalog's flag, or else by age's extension.
    expect(backupFilePath({ path: "/b/prod-1.dump.age" }, encrypts)).toBe("/b/prod-1.dump.age");
    expect(() => backupFilePath({ path: "/b/prod-1.dump", backup: { encrypted: false } }, encrypts)).toThrow(
      /encrypts its backups \(backup.encryptTo\), but the backup's answer names a plain file \(\/b\/prod-1.dump\)/,
    );
    expect(() => backupFilePath({ path: "/b/prod-1.dump" }, encrypts)).toThrow(/plain file/);
  });
});

describe("the argv the functions build, run for real on the host", () => {
  // --dry-run added: the same command line, answering with its plan instead of acting.
  const cli = (argv: string[]) =>
    execa(argv[0] ?? "", [...argv.slice(1), "--dry-run"], {
      cwd: repoRoot,
      reject: false,
      env: { SHIPYARD_ENVIRONMENTS: path.join(repoRoot, "deploy/environments.yaml") },
    });
  const staging = { ...overSsh, env: "staging" };

  it("npm prints nothing but the CLI's JSON, which the function reads", async () => {
    for (const input of [
      { ...staging, command: "backup" as const },
      { ...staging, command: "restore" as const, hasDatabaseUrl: true },
    ]) {
      const { exitCode, stdout, stderr } = await cli(deployerWiring(input).argv);
      const outcome = deployerOutcome(exitCode ?? -1, stdout, stderr);
      expect(outcome.ok, outcome.summary).toBe(true);
      expect(JSON.parse(outcome.json).plan.length).toBeGreaterThan(3);
    }
  }, 60_000);

  it("an image not pinned by digest comes back as the CLI's own refusal", async () => {
    const { exitCode, stdout, stderr } = await cli(
      deployerWiring({ ...staging, command: "deploy", image: "ghcr.io/acme/shop:1.4.0" }).argv,
    );
    const outcome = deployerOutcome(exitCode ?? -1, stdout, stderr);
    expect(outcome.ok).toBe(false);
    expect(outcome.summary).toMatch(/^deploy failed \(exit 2\): --image must be pinned by digest/);
  }, 60_000);

  it("an unknown environment comes back as the CLI's own error", async () => {
    const { exitCode, stdout, stderr } = await cli(
      deployerWiring({ ...overSsh, command: "backup", env: "prdo" }).argv,
    );
    const outcome = deployerOutcome(exitCode ?? -1, stdout, stderr);
    expect(outcome.ok).toBe(false);
    expect(outcome.summary).toMatch(
      /^backup failed \(exit 2\): unknown environment "prdo"; valid environments in .*: local, staging, prod/,
    );
  }, 60_000);
});
