/**
 * Backups and restores against a real Postgres server (the harness's throw-away one): the dump is
 * restored into a scratch database and counted before it is listed; restore gives back the data.
 */
import { chmod, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EphemeralPostgres, startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { choosePostgresBinDir } from "../../../test/harness/server-plans.js";
import { query } from "../../../test/harness/sql.js";
import { type BackupContext, BackupRefused, backup, importBackup } from "../../src/backup/backup.js";
import { readCatalog, writeCatalog } from "../../src/backup/catalog.js";
import { sha256File } from "../../src/backup/files.js";
import { restore } from "../../src/backup/restore.js";
import { parseDatabaseUrl } from "../../src/commands/postgres.js";
import type { Environment } from "../../src/config/environments.js";
import { Progress } from "../../src/progress.js";
import { localRunner } from "../../src/runner.js";
import { composeIn, localEnvironment } from "../support/environment.js";

let server: EphemeralPostgres;
let dir: string;
let binDir: string | null;

beforeAll(async () => {
  server = await startPostgres();
  binDir = choosePostgresBinDir(process.env, await readdir("/usr/lib/postgresql").catch(() => []));
});
afterAll(async () => {
  await server?.stop();
});

let dbCounter = 0;
let databaseUrl: string;
beforeEach(async () => {
  dir = await makeScratchDir("backup");
  databaseUrl = await server.createDatabase(`shop_${++dbCounter}`);
  await sql(
    databaseUrl,
    `CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[]);
     CREATE TABLE orders (id bigserial PRIMARY KEY, product_id int REFERENCES products(id), quantity int, note jsonb);
     CREATE SCHEMA "Audit Log";
     CREATE TABLE "Audit Log"."Entries" (at timestamptz DEFAULT now(), what text);
     INSERT INTO products (name, price, tags)
       SELECT 'product ' || i, i * 1.25, ARRAY['t' || (i % 3)] FROM generate_series(1, 500) i;
     INSERT INTO orders (product_id, quantity, note)
       SELECT (i % 500) + 1, i % 7, jsonb_build_object('i', i, 'quote', 'it''s') FROM generate_series(1, 1200) i;
     INSERT INTO "Audit Log"."Entries" (what) VALUES ('created'), (E'line\\nbreak');`,
  );
  return () => rm(dir, { recursive: true, force: true });
});

async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const result = await query<T>(url, text);
  return Array.isArray(result) ? [] : result.rows;
}

/** Every row of every table, in a stable order: "identical data" means this is equal. */
async function everything(url: string) {
  return {
    products: await sql(url, "SELECT * FROM products ORDER BY id"),
    orders: await sql(url, "SELECT * FROM orders ORDER BY id"),
    audit: await sql(url, `SELECT * FROM "Audit Log"."Entries" ORDER BY what`),
    nextOrderId: await sql(url, "SELECT last_value, is_called FROM orders_id_seq"),
  };
}

/** The environment with its compose project (where a backup writes its time) under the test's directory. */
function context(environment: Environment, tools = { binDir }): BackupContext {
  return {
    environment: { ...environment, compose: { ...environment.compose, ...composeIn(dir) } },
    conn: parseDatabaseUrl(databaseUrl, "DATABASE_URL"),
    tools,
    runner: localRunner(120),
    progress: new Progress(() => {}),
    directory: environment.backup.directory,
  };
}

async function databases(): Promise<string[]> {
  return (await sql<{ datname: string }>(server.adminUrl, "SELECT datname FROM pg_database")).map(
    (r) => r.datname,
  );
}

describe("backup", () => {
  it("records a backup only after restoring it into a scratch database with the same tables and row counts", async () => {
    const ctx = context(localEnvironment(dir));
    const { entry } = await backup(ctx);

    expect(entry.verified).toBe(true);
    expect(entry.tables).toEqual([
      { table: "Audit Log.Entries", rows: 2 },
      { table: "public.orders", rows: 1200 },
      { table: "public.products", rows: 500 },
    ]);
    const file = path.join(ctx.directory, entry.file);
    expect(await sha256File(file)).toBe(entry.sha256);
    expect((await stat(file)).size).toBe(entry.sizeBytes);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file)).subarray(0, 5).toString()).toBe("PGDMP"); // custom format
    expect(await readCatalog(ctx.directory)).toEqual([entry]);
    expect((await databases()).filter((d) => d.startsWith("shipyard_verify_"))).toEqual([]);
  });

  it("counts and dump describe the same moment while the app keeps writing", async () => {
    const writer = new pg.Client({ connectionString: databaseUrl });
    await writer.connect();
    let writing = true;
    let written = 0;
    const load = (async () => {
      while (writing) {
        await writer.query("INSERT INTO orders (product_id, quantity) VALUES (1, 1)");
        written++;
      }
    })();
    try {
      const { entry } = await backup(context(localEnvironment(dir)));
      const orders = entry.tables.find((t) => t.table === "public.orders")?.rows ?? 0;
      expect(orders).toBeGreaterThanOrEqual(1200);
      expect(orders).toBeLessThan(1200 + written);
    } finally {
      writing = false;
      await load;
      await writer.end();
    }
  });

  it("backups running at the same time are all listed", async () => {
    const ctx = context(localEnvironment(dir));
    const made = await Promise.all([backup(ctx), backup(ctx), backup(ctx)]);
    const listed = (await readCatalog(ctx.directory)).map((b) => b.id).sort();
    expect(listed).toEqual(made.map((m) => m.entry.id).sort());
  });

  it("refuses a dump that does not restore, and lists nothing", async () => {
    // A pg_dump whose output is cut short, as a full disk or a dying connection would leave it.
    const faulty = path.join(dir, "faulty-bin");
    await mkdir(faulty);
    for (const tool of ["pg_restore", "createdb", "dropdb", "psql"]) {
      await symlink(
        binDir ? path.join(binDir, tool) : (await execa("which", [tool])).stdout,
        path.join(faulty, tool),
      );
    }
    const realDump = binDir ? path.join(binDir, "pg_dump") : "pg_dump";
    await writeFile(
      path.join(faulty, "pg_dump"),
      `#!/bin/sh\nset -e\n"${realDump}" "$@"\nfor a in "$@"; do case "$a" in --file=*) f="\${a#--file=}";; esac; done\ntruncate -s $(( $(stat -c %s "$f") * 6 / 10 )) "$f"\n`,
    );
    await chmod(path.join(faulty, "pg_dump"), 0o755);

    const ctx = context(localEnvironment(dir), { binDir: faulty });
    await expect(backup(ctx)).rejects.toThrow(BackupRefused);
    await expect(backup(ctx)).rejects.toThrow(/the dump does not restore/);
    expect(await readCatalog(ctx.directory)).toEqual([]);
    expect(await readdir(ctx.directory)).toEqual([]);
    expect((await databases()).filter((d) => d.startsWith("shipyard_verify_"))).toEqual([]);
  });

  it("applies retention after recording, keeping the newest per day", async () => {
    const env = localEnvironment(dir, {});
    env.backup.retention = { last: 1, daily: 2, weekly: 0 };
    const days = ["2026-11-20T03:00:00.000Z", "2026-11-21T03:00:00.000Z", "2026-11-22T03:00:00.000Z"];
    const ids: string[] = [];
    for (const day of days) {
      const ctx = { ...context(env), now: () => new Date(day) };
      ids.push((await backup(ctx)).entry.id);
    }
    const listed = await readCatalog(env.backup.directory);
    expect(listed.map((b) => b.id)).toEqual(ids.slice(1));
    expect((await readdir(env.backup.directory)).sort()).toEqual(
      ["catalog.json", ...listed.map((b) => b.file)].sort(),
    );
  });

  it("encrypts the stored file with age when recipients are configured, and restores it with the identity", async () => {
    const keyFile = path.join(dir, "age-identity.txt");
    await execa("age-keygen", ["-o", keyFile]);
    const recipient = (await execa("age-keygen", ["-y", keyFile])).stdout.trim();
    const env = localEnvironment(dir);
    env.backup.encryptTo = [recipient];
    const ctx = context(env);
    const before = await everything(databaseUrl);
    const { entry } = await backup(ctx);

    expect(entry.encrypted).toBe(true);
    expect(entry.file).toMatch(/\.dump\.age$/);
    const stored = await readFile(path.join(ctx.directory, entry.file));
    expect(stored.subarray(0, 21).toString()).toBe("age-encryption.org/v1");

    await sql(databaseUrl, "DELETE FROM orders");
    await restore(ctx, ctx.runner, {
      id: entry.id,
      confirm: undefined,
      ageIdentityFile: keyFile,
      who: "test",
    });
    expect(await everything(databaseUrl)).toEqual(before);
  });
});

describe("catalog", () => {
  it("a damaged catalog is reported with its path, and no backup is taken on top of it", async () => {
    const ctx = context(localEnvironment(dir));
    await mkdir(ctx.directory, { recursive: true });
    await writeFile(path.join(ctx.directory, "catalog.json"), '{"version": 1, "backups": [');
    await expect(backup(ctx)).rejects.toThrow(
      `${path.join(ctx.directory, "catalog.json")} is not valid JSON`,
    );
    expect((await readdir(ctx.directory)).sort()).toEqual(["catalog.json"]);
  });
});

describe("restore", () => {
  it("backup, wipe, restore gives back identical data, after a safety backup of the wiped state", async () => {
    const ctx = context(localEnvironment(dir));
    const before = await everything(databaseUrl);
    const { entry } = await backup(ctx);

    await sql(
      databaseUrl,
      `DROP TABLE orders; DELETE FROM products WHERE id > 10; DELETE FROM "Audit Log"."Entries"`,
    );
    const result = await restore(ctx, ctx.runner, {
      id: entry.id,
      confirm: undefined,
      ageIdentityFile: undefined,
      who: "test",
    });

    expect(await everything(databaseUrl)).toEqual(before);
    expect(result.safetyBackup.reason).toBe(`safety backup before restoring ${entry.id}`);
    expect(result.safetyBackup.tables).toContainEqual({ table: "public.products", rows: 10 });
    expect((await readCatalog(ctx.directory)).map((b) => b.id)).toEqual([entry.id, result.safetyBackup.id]);
    // The lock was taken for the restore and given back.
    expect(await readdir(ctx.environment.stateDirectory)).toEqual([]);
  });

  it("refuses a backup whose file no longer matches its sha256, and changes nothing", async () => {
    const ctx = context(localEnvironment(dir));
    const { entry } = await backup(ctx);
    const file = path.join(ctx.directory, entry.file);
    const bytes = await readFile(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    await sql(databaseUrl, "DELETE FROM orders WHERE id > 100");
    const after = await everything(databaseUrl);

    await expect(
      restore(ctx, ctx.runner, { id: entry.id, confirm: undefined, ageIdentityFile: undefined, who: "test" }),
    ).rejects.toThrow(
      new RegExp(
        `backup ${entry.id} is corrupted: .* has sha256 [0-9a-f]{64}, the catalog recorded ${entry.sha256}`,
      ),
    );
    expect(await everything(databaseUrl)).toEqual(after);
    expect(await readCatalog(ctx.directory)).toEqual([entry]); // no safety backup: nothing was attempted
  });

  it("refuses a catalog entry edited to name another dump, before touching the data", async () => {
    const ctx = context(localEnvironment(dir));
    const { entry: older } = await backup(ctx);
    await sql(databaseUrl, "INSERT INTO products (name) VALUES ('added later')");
    const { entry: newer } = await backup(ctx);
    // A dump of another database, made with another environment's backups.
    const otherUrl = await server.createDatabase(`other_${dbCounter}`);
    await sql(
      otherUrl,
      "CREATE TABLE products (id serial PRIMARY KEY, name text); INSERT INTO products (name) VALUES ('x')",
    );
    const otherDir = await makeScratchDir("backup-other");
    const other = (
      await backup({
        ...context(localEnvironment(otherDir)),
        conn: parseDatabaseUrl(otherUrl, "DATABASE_URL"),
      })
    ).entry;
    await writeFile(
      path.join(dir, "backups", "other.dump"),
      await readFile(path.join(otherDir, "backups", other.file)),
    );
    await rm(otherDir, { recursive: true, force: true });

    const pointAt = async (file: string, like: typeof older) =>
      writeCatalog(ctx.directory, [
        {
          ...older,
          file,
          sha256: await sha256File(path.join(ctx.directory, file)),
          sizeBytes: like.sizeBytes,
        },
        newer,
      ]);
    const attempt = () =>
      restore(ctx, ctx.runner, { id: older.id, confirm: undefined, ageIdentityFile: undefined, who: "test" });
    await sql(databaseUrl, "DELETE FROM orders WHERE id > 100");
    const data = await everything(databaseUrl);

    // The same database a moment later: the checksum matches the edited entry, the row counts do not.
    await pointAt(newer.file, newer);
    await expect(attempt()).rejects.toThrow(
      new RegExp(
        `backup ${older.id} does not hold what the catalog records: .*table public.products has 501 rows, source had 500.*; nothing was restored`,
      ),
    );
    // Another database's dump.
    await pointAt("other.dump", other);
    await expect(attempt()).rejects.toThrow(
      `backup ${older.id} does not hold what the catalog records: it is a dump of database "other_${dbCounter}", the catalog says "shop_${dbCounter}"; nothing was restored`,
    );
    expect(await everything(databaseUrl)).toEqual(data);
    // No safety backup was taken, no lock left: nothing was attempted.
    expect((await readCatalog(ctx.directory)).map((b) => b.id)).toEqual([older.id, newer.id]);
    expect(await readdir(ctx.environment.stateDirectory).catch(() => [])).toEqual([]);
  });

  it("needs --confirm=<env> where the environment requires it, and names an unknown backup", async () => {
    const ctx = context(localEnvironment(dir, { name: "prod", requireConfirmation: true }));
    const { entry } = await backup(ctx);
    const request = { id: entry.id, confirm: undefined, ageIdentityFile: undefined, who: "test" };
    await expect(restore(ctx, ctx.runner, request)).rejects.toThrow(
      'restoring replaces the data of "prod"; confirm with --confirm=prod',
    );
    await expect(restore(ctx, ctx.runner, { ...request, confirm: "staging" })).rejects.toThrow(
      "(got --confirm=staging)",
    );
    await expect(restore(ctx, ctx.runner, { ...request, id: "prod-nope", confirm: "prod" })).rejects.toThrow(
      `no verified backup "prod-nope" in the catalog; the newest are: ${entry.id}`,
    );
  });
});

describe("restore of a dump made elsewhere (restore --file)", () => {
  it("is verified and catalogued with the counts it restores to, then restores identical data", async () => {
    const made = context(localEnvironment(dir, { name: "elsewhere" }));
    const before = await everything(databaseUrl);
    const { entry: original } = await backup(made);
    const exported = path.join(dir, "exported.dump");
    await writeFile(exported, await readFile(path.join(made.directory, original.file)));

    // Another machine: an empty catalog, only the exported file.
    const env = localEnvironment(path.join(dir, "other"));
    const ctx = context(env);
    const imported = await importBackup(ctx, exported);
    expect(imported.tables).toEqual(original.tables);
    expect(imported.reason).toBe("imported from exported.dump");
    expect(imported.database).toBe(original.database);
    expect(await readCatalog(ctx.directory)).toEqual([imported]);
    expect((await databases()).filter((d) => d.startsWith("shipyard_verify_"))).toEqual([]);

    await sql(databaseUrl, `DELETE FROM orders; DELETE FROM "Audit Log"."Entries"`);
    await restore(ctx, ctx.runner, {
      id: imported.id,
      confirm: undefined,
      ageIdentityFile: undefined,
      who: "t",
    });
    expect(await everything(databaseUrl)).toEqual(before);
  });

  it("refuses a file that is not a pg_dump archive, or one that does not restore, and catalogues neither", async () => {
    const ctx = context(localEnvironment(dir));
    const text = path.join(dir, "notes.txt");
    await writeFile(text, "hello");
    await expect(importBackup(ctx, text)).rejects.toThrow(
      /notes\.txt is not a pg_dump custom-format archive/,
    );

    const { entry } = await backup(context(localEnvironment(path.join(dir, "src"))));
    const bytes = await readFile(path.join(dir, "src", "backups", entry.file));
    const cut = path.join(dir, "cut.dump");
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await expect(importBackup(ctx, cut)).rejects.toThrow(/the dump does not restore/);
    expect(await readCatalog(ctx.directory)).toEqual([]);
    expect(await readdir(ctx.directory)).toEqual([]);
  });
});
