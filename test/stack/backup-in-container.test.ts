/**
 * Backups of a Postgres that is never published (database.dumpFrom: compose-service): a compose project
 * with only the stack's postgres image, no port mapped; pg_dump runs inside its container through
 * compose exec, the dump is checked on a separate scratch server, and it restores to the same data.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupContext, backup } from "../../deploy/src/backup/backup.js";
import { readCatalog } from "../../deploy/src/backup/catalog.js";
import { restore } from "../../deploy/src/backup/restore.js";
import { parseDatabaseUrl } from "../../deploy/src/commands/postgres.js";
import type { Environment } from "../../deploy/src/config/environments.js";
import { Progress } from "../../deploy/src/progress.js";
import { localRunner, sshRunner } from "../../deploy/src/runner.js";
import { runCli } from "../../deploy/test/support/cli.js";
import {
  type EnvironmentEntry,
  environmentFrom,
  writeEnvironmentsFile,
} from "../../deploy/test/support/environment.js";
import { startSshServer } from "../../deploy/test/support/ssh-server.js";
import { type ComposeCli, detectComposeCli } from "../docker/compose-cli.js";
import { ComposeProject } from "../docker/compose-project.js";
import { ensureImages } from "../docker/standin-images.js";
import { type EphemeralPostgres, startPostgres } from "../harness/ephemeral-postgres.js";
import { choosePostgresBinDir } from "../harness/server-plans.js";
import { query } from "../harness/sql.js";
import { REPO_ROOT } from "./support/nginx-host.js";

const SEED = `
CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2));
CREATE TABLE orders (id bigserial PRIMARY KEY, product_id int REFERENCES products(id), note jsonb);
CREATE SCHEMA "Audit Log";
CREATE TABLE "Audit Log"."Entries" (what text);
INSERT INTO products (name, price) SELECT 'product ' || i, i * 1.25 FROM generate_series(1, 300) i;
INSERT INTO orders (product_id, note) SELECT (i % 300) + 1, jsonb_build_object('i', i, 'q', 'it''s') FROM generate_series(1, 700) i;
INSERT INTO "Audit Log"."Entries" VALUES ('created'), (E'line\\nbreak');
`;
const FINGERPRINT = `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (
  SELECT p::text AS t FROM products p UNION ALL SELECT o::text FROM orders o
  UNION ALL SELECT e::text FROM "Audit Log"."Entries" e) all_rows`;

let project: ComposeProject | undefined;
let scratchServer: EphemeralPostgres | undefined;
let workDir: string;
let cli: ComposeCli;
let binDir: string | null;

/** The environment as its file spells it; each call gets a backup directory of its own. */
function prodEntry(database: Partial<EnvironmentEntry["database"]> = {}): EnvironmentEntry {
  return {
    target: { kind: "local" },
    compose: {
      project: project?.spec.name ?? "",
      directory: workDir,
      cli: cli.version === "v2" ? "docker compose" : "docker-compose",
      nginxConfDirectory: join(workDir, "conf.d"),
    },
    stateDirectory: join(workDir, "state"),
    publicUrl: "https://127.0.0.1:1",
    database: { urlEnv: "UNUSED_DATABASE_URL", dumpFrom: "compose-service", ...database },
    timeouts: { commandSeconds: 120, healthSeconds: 60, lockStaleMinutes: 60 },
    watch: { seconds: 0, maxErrorPercent: 1, minRequests: 20 },
    backup: {
      directory: join(workDir, `backups-${randomBytes(3).toString("hex")}`),
      retention: { last: 3, daily: 3, weekly: 1 },
    },
    requireConfirmation: true,
  };
}

const environment = (database: Partial<EnvironmentEntry["database"]> = {}): Environment =>
  environmentFrom("prod", prodEntry(database));

function context(env: Environment): BackupContext {
  if (!scratchServer) throw new Error("no scratch server");
  return {
    environment: env,
    // Never used to dump: the source is reached only inside its container.
    conn: parseDatabaseUrl("postgres://nobody@127.0.0.1:1/unreachable", "UNUSED"),
    scratch: parseDatabaseUrl(scratchServer.adminUrl, "SHIPYARD_SCRATCH_DATABASE_URL"),
    tools: { binDir },
    runner: localRunner(120),
    progress: new Progress(() => {}),
    directory: env.backup.directory,
  };
}

async function psqlInContainer(sql: string): Promise<string> {
  if (!project) throw new Error("no project");
  const { stdout } = await project.run(
    [
      "exec",
      "-T",
      "postgres",
      "psql",
      "-X",
      "-q",
      "-At",
      "-v",
      "ON_ERROR_STOP=1",
      "-U",
      "shop",
      "-d",
      "shop",
    ],
    { input: sql },
  );
  return stdout.trim();
}

async function queryOne(url: string, sql: string): Promise<unknown> {
  const { rows } = await query(url, sql);
  return Object.values(rows[0] ?? {})[0];
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "shipyard-backup-container-"));
  try {
    cli = await detectComposeCli();
    const image = (await ensureImages(["POSTGRES_IMAGE"])).POSTGRES_IMAGE;
    // As in compose/compose.yaml: the password in .env (mode 0600), no port published.
    writeFileSync(join(workDir, ".env"), `POSTGRES_PASSWORD=${randomBytes(18).toString("hex")}\n`, {
      mode: 0o600,
    });
    writeFileSync(
      join(workDir, "compose.yaml"),
      `services:
  postgres:
    image: ${image}
    user: postgres
    environment:
      POSTGRES_USER: shop
      POSTGRES_DB: shop
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD:?set in .env}
    tmpfs: [/var/run/postgresql, /tmp]
    healthcheck:
      test: ["CMD-SHELL", 'pg_isready -q -h 127.0.0.1 -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"']
      interval: 2s
      timeout: 3s
      retries: 30
`,
    );
    const spec = {
      name: `shipyard-bkctr-${randomBytes(3).toString("hex")}`,
      files: [join(workDir, "compose.yaml")],
      envFile: join(workDir, ".env"),
    };
    project = new ComposeProject(cli, spec, workDir);
    scratchServer = await startPostgres();
    binDir = choosePostgresBinDir(process.env, readdirSync("/usr/lib/postgresql"));
    await project.run(["up", "--detach"]);
    await project.waitReady(["postgres"], [], 120_000);
    await psqlInContainer(SEED);
  } catch (error) {
    await teardown();
    throw error;
  }
});

async function teardown(): Promise<void> {
  await project?.down();
  await scratchServer?.stop();
  rmSync(workDir, { recursive: true, force: true });
}

afterAll(teardown);

describe("backup with pg_dump inside the compose service's container", () => {
  it("dumps through compose exec, verifies on the scratch server, and the file restores to identical data", async () => {
    const env = environment();
    const { entry } = await backup(context(env));

    expect(entry.verified).toBe(true);
    expect(entry.database).toBe("shop");
    expect(entry.tables).toEqual([
      { table: "Audit Log.Entries", rows: 2 },
      { table: "public.orders", rows: 700 },
      { table: "public.products", rows: 300 },
    ]);
    expect((await readCatalog(env.backup.directory)).map((b) => b.id)).toEqual([entry.id]);
    // The scratch database the check used is gone again.
    expect(
      await queryOne(
        scratchServer?.adminUrl ?? "",
        "SELECT count(*)::int FROM pg_database WHERE datname LIKE 'shipyard_verify_%'",
      ),
    ).toBe(0);

    // Round trip: the stored file, restored elsewhere, holds every row exactly as the container has it.
    const copyUrl = (await scratchServer?.createDatabase(`copy_${randomBytes(3).toString("hex")}`)) ?? "";
    const pgRestore = binDir ? join(binDir, "pg_restore") : "pg_restore";
    await execa(pgRestore, [
      "--no-owner",
      "--exit-on-error",
      `--dbname=${copyUrl}`,
      join(env.backup.directory, entry.file),
    ]);
    const original = await psqlInContainer(FINGERPRINT);
    expect(original).toMatch(/^[0-9a-f]{32}$/);
    expect(await queryOne(copyUrl, FINGERPRINT)).toBe(original);
  });

  it("wipe, then restore inside the container gives back identical data, after a safety backup", async () => {
    const env = environment();
    const ctx = context(env);
    const original = await psqlInContainer(FINGERPRINT);
    const { entry } = await backup(ctx);

    await psqlInContainer(
      `DELETE FROM orders WHERE product_id > 5; DELETE FROM products WHERE id > 5; DELETE FROM "Audit Log"."Entries";`,
    );
    expect(await psqlInContainer(FINGERPRINT)).not.toBe(original);
    const result = await restore(ctx, localRunner(120), {
      id: entry.id,
      confirm: "prod",
      ageIdentityFile: undefined,
      who: "test",
    });

    expect(await psqlInContainer(FINGERPRINT)).toBe(original);
    expect(result.safetyBackup.tables).toContainEqual({ table: "public.products", rows: 5 });
    expect((await readCatalog(env.backup.directory)).map((b) => b.id)).toEqual([
      entry.id,
      result.safetyBackup.id,
    ]);
  });

  it("over real SSH (pinned host key), the dump streams back and the restore streams in", async () => {
    const sshd = await startSshServer();
    try {
      const env = { ...environment(), target: sshd.target };
      const host = await sshRunner(sshd.target, { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile }, 120);
      try {
        const ctx = { ...context(env), host };
        const original = await psqlInContainer(FINGERPRINT);
        const { entry } = await backup(ctx);
        expect(entry.tables.map((t) => t.rows)).toEqual([2, 700, 300]);

        await psqlInContainer("DELETE FROM orders WHERE id > 10;");
        await restore(ctx, host, { id: entry.id, confirm: "prod", ageIdentityFile: undefined, who: "test" });
        expect(await psqlInContainer(FINGERPRINT)).toBe(original);
      } finally {
        await host.close();
      }
    } finally {
      await sshd.stop();
    }
  });

  it("a dump that cannot run is refused and never catalogued", async () => {
    const env = environment({ service: "no-such-service" });
    await expect(backup(context(env))).rejects.toThrow(/no-such-service/);
    expect(await readCatalog(env.backup.directory)).toEqual([]);
    expect(readdirSync(env.backup.directory).filter((name) => name.includes(".dump"))).toEqual([]);
  });

  it("the CLI backs up such an environment with SHIPYARD_SCRATCH_DATABASE_URL, and names it when missing", async () => {
    const entry = prodEntry();
    const env = environmentFrom("prod", entry);
    const config = await writeEnvironmentsFile(join(workDir, "environments.yaml"), { prod: entry });
    const run = (extraEnv: Record<string, string>) =>
      runCli(["backup", "--env=prod", "--json"], {
        config,
        cwd: REPO_ROOT,
        env: { ...extraEnv, ...(binDir ? { PG_BIN_DIR: binDir } : {}) },
      });

    const missing = await run({});
    expect(missing.exitCode).toBe(2);
    expect(JSON.parse(missing.stdout).error.message).toMatch(/SHIPYARD_SCRATCH_DATABASE_URL is not set/);

    const done = await run({ SHIPYARD_SCRATCH_DATABASE_URL: scratchServer?.adminUrl ?? "" });
    expect(done.exitCode, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout);
    expect(result.ok).toBe(true);
    expect(result.steps.map((s: { step: string }) => s.step)).toContain("dump in container");
    expect(result.result.backup.tables).toHaveLength(3);
    // Where the verified file is, for callers that take it away (dagger call backup exports it).
    expect(result.result.path).toBe(join(env.backup.directory, result.result.backup.file));
    expect(readFileSync(result.result.path).subarray(0, 5).toString()).toBe("PGDMP");
    // The connection URL of the scratch server never reaches an argv.
    expect(JSON.stringify(result)).not.toContain(new URL(scratchServer?.adminUrl ?? "").password);
  });
});
