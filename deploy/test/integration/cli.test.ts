/** The CLI as an operator runs it: a real process, a real Postgres, a config file of its own. */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_SECONDS, deadline } from "../../../test/harness/deadline.js";
import { type EphemeralPostgres, startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { freePort } from "../../../test/harness/network.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { query as sqlQuery } from "../../../test/harness/sql.js";
import { appendRelease } from "../../src/commands/ledger.js";
import { acquire } from "../../src/locking.js";
import { localRunner, sshRunner } from "../../src/runner.js";
import { runCli } from "../support/cli.js";
import { composeIn, localEntry, localEnvironment, writeEnvironmentsFile } from "../support/environment.js";
import { startSshServer } from "../support/ssh-server.js";

let server: EphemeralPostgres;
let dir: string;
let databaseUrl: string;
let config: string;
let site: http.Server;
let closedPort: number;

beforeAll(async () => {
  // Stands in for the environment's public site: /healthz answers 200, anything else 404.
  site = http.createServer((req, res) => {
    res.writeHead(req.url === "/healthz" ? 200 : 404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  const sitePort = (site.address() as { port: number }).port;
  closedPort = await freePort(); // nothing listens there: prod's site is down
  [server, dir] = await Promise.all([startPostgres(), makeScratchDir("cli")]);
  databaseUrl = await server.createDatabase("shop");
  await query(
    `CREATE TABLE products (id serial PRIMARY KEY, name text);
     INSERT INTO products (name) SELECT 'p' || i FROM generate_series(1, 50) i;`,
  );
  const database = { urlEnv: "SHOP_URL" };
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    local: localEntry(dir, { compose: composeIn(dir), publicUrl: `http://127.0.0.1:${sitePort}`, database }),
    prod: localEntry(dir, {
      compose: composeIn(dir),
      stateDirectory: `${dir}/prod-state`,
      publicUrl: `http://127.0.0.1:${closedPort}`,
      database,
      backup: { directory: `${dir}/prod-backups`, retention: { daily: 7, weekly: 4 } },
      requireConfirmation: true,
    }),
  });
});
afterAll(async () => {
  await new Promise((resolve) => site?.close(resolve));
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const query = (text: string) => sqlQuery(databaseUrl, text);

const shipyard = (...args: string[]) => runCli(args, { config, env: { SHOP_URL: databaseUrl } });

describe("shipyard CLI", () => {
  it(
    "--dry-run prints every command with its arguments, without the password, and does nothing",
    async () => {
      const { exitCode, stdout } = await shipyard("backup", "--env=local", "--dry-run");
      expect(exitCode).toBe(0);
      expect(stdout).toMatch(
        /^4\. dump\n {3}pg_dump --format=custom .*--snapshot=<exported-at-run-time> --dbname=shop$/m,
      );
      expect(stdout).toContain("pg_restore --no-password --exit-on-error --single-transaction --no-owner");
      expect(stdout).not.toContain(new URL(databaseUrl).password);
      await expect(readdir(path.join(dir, "backups"))).rejects.toThrow(/ENOENT/);
    },
    deadline({ cli: 1 }),
  );

  it(
    "backup, wipe, restore by id: progress with durations, JSON summaries, identical data",
    async () => {
      const made = await shipyard("backup", "--env=local", "--json");
      expect(made.exitCode).toBe(0);
      expect(made.stderr).toMatch(/✓ verify row counts \(\d+\.\d\d s\) 1 tables, 50 rows match/);
      const summary = JSON.parse(made.stdout);
      expect(summary).toMatchObject({ ok: true, command: "backup", env: "local" });
      expect(summary.steps.map((s: { step: string }) => s.step)).toEqual([
        "preflight: database size",
        "preflight: free space",
        "snapshot",
        "dump",
        "clear scratch database",
        "scratch database",
        "restore into scratch",
        "verify row counts",
        "drop scratch database",
        "record",
        "export backup time",
        "retention",
      ]);
      const id: string = summary.result.backup.id;
      // For node-exporter, beside the environment's compose.yaml.
      expect(
        await readFile(path.join(dir, "compose/monitoring/textfile/shipyard_backup_local.prom"), "utf8"),
      ).toMatch(/^shipyard_backup_last_verified_timestamp_seconds\{env="local"\} \d+(\.\d+)?$/m);

      const listed = JSON.parse((await shipyard("backups", "--env=local", "--json")).stdout);
      expect(listed.result.backups.map((b: { id: string }) => b.id)).toEqual([id]);

      await query("DELETE FROM products WHERE id % 2 = 0; UPDATE products SET name = 'changed'");
      const restored = await shipyard("restore", "--env=local", `--backup=${id}`);
      expect(restored.exitCode).toBe(0);
      expect(restored.stdout).toContain(`restored ${id} into shop; every table has its recorded row count`);
      const rows = await query("SELECT id, name FROM products ORDER BY id");
      expect(rows.rows).toEqual(Array.from({ length: 50 }, (_, i) => ({ id: i + 1, name: `p${i + 1}` })));
    },
    deadline({ cli: 3 }),
  );

  it(
    "status shows health, the current release, the lock, the releases on the host and the backups",
    async () => {
      const r7 = {
        release: "r7",
        env: "local",
        who: "ci",
        at: "2026-11-23T10:00:00.000Z",
        image: "shipyard/app:r7",
        digest: `sha256:${"b".repeat(64)}`,
        result: "succeeded" as const,
      };
      await localRunner(10).run(appendRelease(path.join(dir, "state"), r7));
      await localRunner(10).run(
        appendRelease(path.join(dir, "state"), {
          ...r7,
          release: "r8",
          at: "2026-11-23T11:00:00.000Z",
          result: "rolled-back",
        }),
      );
      const { exitCode, stdout } = await shipyard("status", "--env=local");
      expect(exitCode).toBe(0);
      expect(stdout).toMatch(/^health: ok http:\/\/127\.0\.0\.1:\d+\/healthz 200 \(\d+ ms\)$/m);
      expect(stdout).toContain(
        `current release: r7 (shipyard/app:r7@${r7.digest}, 2026-11-23T10:00:00.000Z)`,
      );
      expect(stdout).toContain("lock: free");
      expect(stdout).toMatch(
        /release r7 {2}2026-11-23T10:00:00.000Z {2}succeeded {2}shipyard\/app:r7@sha256:b{64} {2}by ci/,
      );
      expect(stdout).toMatch(/backup local-\S+ {2}\S+ {2}verified/);
    },
    deadline({ cli: 1 }),
  );

  it(
    "a corrupted backup is refused by restore with a non-zero exit and the step that failed",
    async () => {
      const made = JSON.parse((await shipyard("backup", "--env=prod", "--json")).stdout);
      const file = path.join(dir, "prod-backups", made.result.backup.file);
      const bytes = await readFile(file);
      await writeFile(file, Buffer.concat([bytes, Buffer.from("tampered")]));

      const plan = await shipyard(
        "restore",
        "--env=prod",
        `--backup=${made.result.backup.id}`,
        "--confirm=prod",
        "--dry-run",
      );
      expect(plan.exitCode).toBe(0);
      expect(plan.stdout).toMatch(/safety backup/);
      expect(plan.stdout).toMatch(
        /pg_restore --no-password --exit-on-error --single-transaction --no-owner --clean --if-exists --dbname=shop /,
      );

      const unconfirmed = await shipyard("restore", "--env=prod", `--backup=${made.result.backup.id}`);
      expect(unconfirmed.exitCode).toBe(2);
      expect(unconfirmed.stderr).toContain(
        'restoring replaces the data of "prod"; confirm with --confirm=prod',
      );

      const refused = await shipyard(
        "restore",
        "--env=prod",
        `--backup=${made.result.backup.id}`,
        "--confirm=prod",
        "--json",
      );
      expect(refused.exitCode).toBe(1);
      const result = JSON.parse(refused.stdout);
      expect(result).toMatchObject({ ok: false, error: { kind: "BackupRefused" } });
      expect(result.error.message).toMatch(/is corrupted: .* has sha256 [0-9a-f]{64}, the catalog recorded/);
      expect(result.steps).toEqual([expect.objectContaining({ step: "checksum", ok: false })]);
    },
    deadline({ cli: 4 }),
  );

  it(
    "status reports a site that does not answer as failing, with the reason",
    async () => {
      const { stdout } = await shipyard("status", "--env=prod", "--json");
      const { health } = JSON.parse(stdout).result;
      expect(health).toMatchObject({ ok: false, url: `http://127.0.0.1:${closedPort}/healthz` });
      expect(health.error).toMatch(/ECONNREFUSED/);
    },
    deadline({ cli: 1 }),
  );

  it(
    "names an unknown command and the valid ones before asking for anything else",
    async () => {
      const { exitCode, stderr } = await runCli(["bakup"]);
      expect(exitCode).toBe(2);
      expect(stderr).toContain(
        'unknown command "bakup"; valid commands: setup, deploy, rollback, backup, upload, restore, backups, releases, lock, status, audit, logs, exec',
      );
    },
    deadline({ cli: 1 }),
  );

  it(
    "refuses a release name that is not a plain word before touching the host, with the usage exit code",
    async () => {
      const image = `registry.example.com/shop@sha256:${"a".repeat(64)}`;
      const { exitCode, stderr } = await shipyard(
        "deploy",
        "--env=local",
        `--image=${image}`,
        "--release=v1; rm -rf /",
      );
      expect(exitCode).toBe(2);
      expect(stderr).toBe(
        'shipyard deploy: --release must be a release name (letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit), got "v1; rm -rf /"',
      );
    },
    deadline({ cli: 1 }),
  );

  it(
    "names an unknown environment and the valid ones, with the usage exit code",
    async () => {
      const { exitCode, stderr } = await shipyard("backup", "--env=staging");
      expect(exitCode).toBe(2);
      expect(stderr).toContain(`unknown environment "staging"; valid environments in ${config}: local, prod`);
    },
    deadline({ cli: 1 }),
  );

  it(
    "shows and breaks the lock of an SSH host, with the host key pinned from the environments file",
    async () => {
      const sshd = await startSshServer();
      try {
        const t = sshd.target;
        const sshConfig = await writeEnvironmentsFile(path.join(dir, "ssh-environments.yaml"), {
          staging: localEntry(dir, {
            target: { kind: "ssh", host: t.host, port: t.port, user: t.user, hostKey: t.hostKey },
            compose: {
              project: "shipyard",
              directory: "/srv/compose",
              nginxConfDirectory: "/srv/nginx/conf.d",
            },
            stateDirectory: `${dir}/remote-state`,
            publicUrl: "https://staging.example.com",
            database: { urlEnv: "SHOP_URL" },
            backup: { directory: `${dir}/staging-backups`, retention: { daily: 7, weekly: 4 } },
          }),
        });
        const run = (...args: string[]) =>
          runCli(args, { config: sshConfig, env: { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile } });
        expect((await run("lock", "status", "--env=staging")).stdout).toContain("lock: free");

        const host = await sshRunner(t, { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile }, COMMAND_SECONDS);
        const env = { ...localEnvironment(dir), name: "staging", stateDirectory: `${dir}/remote-state` };
        await acquire(host, env, { who: "ana@laptop", purpose: "deploy r9" });
        await host.close();

        const held = await run("lock", "status", "--env=staging", "--json");
        expect(JSON.parse(held.stdout).result.lock).toMatchObject({
          holder: "ana@laptop",
          purpose: "deploy r9",
        });
        const broken = await run("lock", "break", "--env=staging");
        expect(broken.exitCode).toBe(0);
        expect(broken.stdout).toMatch(/^removed the lock held by ana@laptop for deploy r9 since /);
        expect((await run("lock", "status", "--env=staging")).stdout).toContain("lock: free");

        const noKey = await runCli(["status", "--env=staging"], {
          config: sshConfig,
          env: { SHIPYARD_SSH_KEY_FILE: "", SHIPYARD_SSH_KEY: "" },
        });
        expect(noKey.exitCode).toBe(2);
        expect(noKey.stderr).toContain(
          "set SHIPYARD_SSH_KEY (the private key) or SHIPYARD_SSH_KEY_FILE (its path)",
        );
      } finally {
        await sshd.stop();
      }
    },
    deadline({ cli: 6, server: 1, command: 3 }),
  );
});
