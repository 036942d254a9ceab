/**
 * Backups kept on the server (backup.where: server), for real: a compose project with only the stack's
 * postgres image, no port mapped, on the test's engine. pg_dump runs in its container into the backup
 * directory on the "server" (this machine, or over real SSH), a throw-away container of the same image
 * restores and counts it there, the catalog is written there, and a restore from it gives back identical
 * data. After each test no throw-away container is left.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
import { REPO_ROOT } from "./support/nginx-host.js";

const SEED = `
CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2));
CREATE TABLE orders (id bigserial PRIMARY KEY, product_id int REFERENCES products(id), note jsonb);
CREATE SCHEMA "Audit Log";
CREATE TABLE "Audit Log"."Entries" (what text);
INSERT INTO products (name, price) SELECT 'product ' || i, i * 1.25 FROM generate_series(1, 300) i;
INSERT INTO orders (product_id, note) SELECT (i % 300) + 1, jsonb_build_object('i', i) FROM generate_series(1, 700) i;
INSERT INTO "Audit Log"."Entries" VALUES ('created'), (E'line\\nbreak');
`;
const FINGERPRINT = `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (
  SELECT p::text AS t FROM products p UNION ALL SELECT o::text FROM orders o
  UNION ALL SELECT e::text FROM "Audit Log"."Entries" e) all_rows`;

let project: ComposeProject | undefined;
let workDir: string;
let cli: ComposeCli;

/** The environment as its file spells it: backups on the server, in a state directory of its own per call. */
function prodEntry(database: Partial<EnvironmentEntry["database"]> = {}): EnvironmentEntry {
  return {
    target: { kind: "local" },
    compose: {
      project: project?.spec.name ?? "",
      directory: workDir,
      cli: cli.version === "v2" ? "docker compose" : "docker-compose",
      nginxConfDirectory: join(workDir, "conf.d"),
    },
    stateDirectory: join(workDir, `state-${randomBytes(3).toString("hex")}`),
    publicUrl: "https://127.0.0.1:1",
    database: { urlEnv: "UNUSED_DATABASE_URL", dumpFrom: "compose-service", ...database },
    timeouts: { commandSeconds: 120, healthSeconds: 60, lockStaleMinutes: 60 },
    watch: { seconds: 0, maxErrorPercent: 1, minRequests: 20 },
    backup: { where: "server", retention: { last: 3, daily: 3, weekly: 1 } },
    requireConfirmation: true,
  };
}

const environment = (database: Partial<EnvironmentEntry["database"]> = {}): Environment =>
  environmentFrom("prod", prodEntry(database));

function context(env: Environment): BackupContext {
  return {
    environment: env,
    // Never used: the source is reached only inside its container, and the check runs in a throw-away.
    conn: parseDatabaseUrl("postgres://nobody@127.0.0.1:1/unreachable", "UNUSED"),
    tools: { binDir: null },
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

/** Throw-away containers on the engine, by name: none may outlive a backup or a restore. */
async function throwaways(): Promise<string[]> {
  const { stdout } = await execa("docker", [
    "ps",
    "--all",
    "--filter",
    "label=shipyard.throwaway=verify",
    "--format",
    "{{.Names}}",
  ]);
  return stdout.split("\n").filter(Boolean);
}

const dumpsIn = (directory: string) => readdirSync(directory).filter((name) => name.includes(".dump"));

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "shipyard-backup-server-"));
  try {
    cli = await detectComposeCli();
    const image = (await ensureImages(["POSTGRES_IMAGE"])).POSTGRES_IMAGE;
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
      name: `shipyard-bksrv-${randomBytes(3).toString("hex")}`,
      files: [join(workDir, "compose.yaml")],
      envFile: join(workDir, ".env"),
    };
    project = new ComposeProject(cli, spec, workDir);
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
  rmSync(workDir, { recursive: true, force: true });
}

afterAll(teardown);
afterEach(async () => {
  expect(await throwaways()).toEqual([]);
});

describe("a backup made, verified and kept on the server", () => {
  it("dumps into the state directory, restores it in a throw-away of the same image, and catalogues it there", async () => {
    const env = environment();
    const { entry } = await backup(context(env));

    expect(env.backup.directory).toBe(join(env.stateDirectory, "backups"));
    expect(entry).toMatchObject({ verified: true, database: "shop", encrypted: false });
    expect(entry.tables).toEqual([
      { table: "Audit Log.Entries", rows: 2 },
      { table: "public.orders", rows: 700 },
      { table: "public.products", rows: 300 },
    ]);
    expect((await readCatalog(env.backup.directory)).map((b) => b.id)).toEqual([entry.id]);
    expect(dumpsIn(env.backup.directory)).toEqual([entry.file]);
    const stored = readFileSync(join(env.backup.directory, entry.file));
    expect(stored.subarray(0, 5).toString()).toBe("PGDMP");
    expect(createHash("sha256").update(stored).digest("hex")).toBe(entry.sha256);
  });

  it("wipe, then restore from the server's file gives back identical data, after a safety backup", async () => {
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

  it("over real SSH (pinned host key): every step on the host, the restore from the host's file", async () => {
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

  it("a backup whose service is not running is refused, never catalogued, and leaves no file", async () => {
    const env = environment({ service: "no-such-service" });
    await expect(backup(context(env))).rejects.toThrow(/no-such-service/);
    expect(await readCatalog(env.backup.directory)).toEqual([]);
    // Refused at its first command (the size, in the container): nothing was written, not even the directory.
    expect(existsSync(env.stateDirectory)).toBe(false);
  });

  it("the CLI backs up with no scratch server, lists it, and --fetch-to copies the verified file here", async () => {
    const entry = prodEntry();
    const env = environmentFrom("prod", entry);
    const config = await writeEnvironmentsFile(join(workDir, "environments.yaml"), { prod: entry });
    const fetched = join(workDir, "fetched", "prod.dump");
    const run = (args: string[]) => runCli([...args, "--env=prod", "--json"], { config, cwd: REPO_ROOT });

    const done = await run(["backup", `--fetch-to=${fetched}`]);
    expect(done.exitCode, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout);
    expect(result.steps.map((s: { step: string }) => s.step)).toEqual(
      expect.arrayContaining([
        "dump on server",
        "throwaway postgres",
        "verify row counts",
        "record",
        "fetch",
      ]),
    );
    expect(result.result.path).toBe(join(env.backup.directory, result.result.backup.file));
    expect(result.result.fetchedTo).toBe(fetched);
    expect(createHash("sha256").update(readFileSync(fetched)).digest("hex")).toBe(
      result.result.backup.sha256,
    );

    const listed = JSON.parse((await run(["backups"])).stdout);
    expect(listed.result.backups.map((b: { id: string }) => b.id)).toEqual([result.result.backup.id]);
  });
});
