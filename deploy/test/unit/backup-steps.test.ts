/**
 * The backup run against FakeRunner (see backup-scene.ts): the exact commands it executes and where, that
 * --dry-run prints the steps a run takes, and for a failure at each step that nothing is catalogued, no
 * file is left and a scratch database it began is dropped; a full backup directory is named as such.
 */
import { writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import {
  BackupRefused,
  backup,
  importBackup,
  NoSpaceLeft,
  planBackup,
  planImportSteps,
} from "../../src/backup/backup.js";
import { backupTimeFile, backupTimeText } from "../../src/backup/backup-time.js";
import { readCatalog } from "../../src/backup/catalog.js";
import { postgresContainer } from "../../src/backup/context.js";
import { ageEncrypt } from "../../src/commands/age.js";
import { freeSpace } from "../../src/commands/disk.js";
import {
  containerDatabaseSize,
  containerDump,
  createDatabase,
  databaseSize,
  dropDatabase,
  pgDump,
  pgRestore,
  pgRestoreList,
} from "../../src/commands/postgres.js";
import { writeTextfile } from "../../src/commands/textfile.js";
import type { Environment } from "../../src/config/environments.js";
import { CommandFailed } from "../../src/runner.js";
import {
  conn,
  line,
  SNAPSHOT_ID,
  scene,
  scratchServer,
  stepsAfterFailure,
  TABLES,
} from "../support/backup-scene.js";
import { localEnvironment } from "../support/environment.js";

let dir: string;
let env: Environment;
let backups: string;
beforeEach(async () => {
  dir = await makeScratchDir("backup-steps");
  env = localEnvironment(dir);
  backups = env.backup.directory;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const inContainer = () => ({
  ...env,
  database: { urlEnv: "UNUSED", dumpFrom: "compose-service" as const, service: "db" },
});

/** The id a backup took, from the scratch database it named. */
const idFrom = (lines: string[]) =>
  (
    lines
      .find((l) => l.startsWith("createdb"))
      ?.split(" ")
      .at(-1) ?? ""
  )
    .replace(/^shipyard_verify_/, "")
    .replaceAll("_", "-");

describe("a backup by URL, run against FakeRunner", () => {
  it("executes exactly these commands, here, and lists the verified file", async () => {
    const { ctx, local, host, snapshots } = scene(env);
    const { entry, removed } = await backup(ctx);

    const partial = path.join(backups, `${entry.id}.dump.partial`);
    const scratch = `shipyard_verify_${entry.id.replaceAll("-", "_")}`;
    expect(local.lines).toEqual(
      [
        databaseSize({ binDir: null }, conn),
        freeSpace(backups),
        pgDump({ binDir: null }, conn, partial, SNAPSHOT_ID),
        dropDatabase({ binDir: null }, conn, scratch),
        createDatabase({ binDir: null }, conn, scratch),
        pgRestore({ binDir: null }, conn, partial, scratch, "into-empty"),
        dropDatabase({ binDir: null }, conn, scratch),
        // The host is this machine: the backup's time for node-exporter.
        writeTextfile(backupTimeFile(env), ""),
      ].map(line),
    );
    expect(local.ran.at(-1)?.stdin).toBe(backupTimeText(env.name, entry));
    expect(host.lines).toEqual([]);
    // The size is read as the dump connects: the password in the environment, never in argv.
    expect(local.ran[0]?.env?.PGDATABASE).toBe("shop");
    expect(local.ran[0]?.stdin).toContain("pg_database_size(current_database())");
    expect(snapshots).toEqual({ taken: 1, released: 1 });

    expect(entry).toMatchObject({
      file: `${entry.id}.dump`,
      database: "shop",
      tables: TABLES,
      verified: true,
    });
    expect(await readCatalog(backups)).toEqual([entry]);
    expect((await readdir(backups)).sort()).toEqual(["catalog.json", entry.file]);
    expect((await stat(path.join(backups, entry.file))).mode & 0o777).toBe(0o600);
    expect(removed).toEqual([]);
  });

  it("takes the very steps --dry-run prints, in the same order", async () => {
    const { ctx, progress } = scene(env);
    await backup(ctx);
    expect(progress.steps.map((s) => s.step)).toEqual(planBackup(ctx).map((s) => s.step));
    expect(planBackup(ctx, "b1").find((s) => s.step === "dump")?.argv).toEqual(
      pgDump({ binDir: null }, conn, path.join(backups, "b1.dump.partial"), "<exported-at-run-time>").argv,
    );
  });

  it("encrypts with age, keeps only the encrypted file, and needs room for both while it does", async () => {
    const encrypted = { ...env, backup: { ...env.backup, encryptTo: ["age1recipient"] } };
    const { ctx, local } = scene(encrypted);
    const { entry } = await backup(ctx);
    const partial = path.join(backups, `${entry.id}.dump.partial`);
    expect(local.lines).toContain(
      line(ageEncrypt(["age1recipient"], partial, path.join(backups, entry.file))),
    );
    expect(entry).toMatchObject({ encrypted: true, file: `${entry.id}.dump.age` });
    expect((await readdir(backups)).sort()).toEqual(["catalog.json", entry.file]);
    expect(planBackup(ctx).find((s) => s.step === "preflight: free space")?.note).toContain("twice");
  });
});

describe("a backup in the Postgres container, run against FakeRunner", () => {
  it("measures and dumps on the host, checks on the scratch server here", async () => {
    const environment = inContainer();
    const { ctx, local, host } = scene(environment);
    const { entry } = await backup(ctx);
    const partial = path.join(backups, `${entry.id}.dump.partial`);
    const scratch = `shipyard_verify_${entry.id.replaceAll("-", "_")}`;
    const target = postgresContainer(environment);
    expect(host.lines).toEqual(
      [
        containerDatabaseSize(target),
        containerDump(target, partial),
        writeTextfile(backupTimeFile(environment), ""),
      ].map(line),
    );
    expect(host.ran[1]?.stdoutFile).toBe(partial);
    expect(local.lines).toEqual(
      [
        freeSpace(backups),
        dropDatabase({ binDir: null }, scratchServer, scratch),
        createDatabase({ binDir: null }, scratchServer, scratch),
        pgRestore({ binDir: null }, scratchServer, partial, scratch, "into-empty"),
        dropDatabase({ binDir: null }, scratchServer, scratch),
      ].map(line),
    );
    expect(entry).toMatchObject({ database: "shop", tables: TABLES });
  });
});

const URL_STEPS = [
  "preflight: database size",
  "preflight: free space",
  "snapshot",
  "dump",
  "clear scratch database",
  "scratch database",
  "restore into scratch",
  "verify row counts",
  "drop scratch database",
];

describe("a backup that fails", () => {
  it.each(URL_STEPS)(
    "at %s lists nothing, leaves no file, ends the snapshot and drops a scratch database it began",
    async (failAt) => {
      const { ctx, local, progress, snapshots } = scene(env, { failAt });
      await expect(backup(ctx)).rejects.toThrow(`${failAt} broke`);

      expect(await readCatalog(backups)).toEqual([]);
      expect(await readdir(backups)).toEqual([]);
      expect(snapshots.released).toBe(snapshots.taken);
      expect(progress.steps.find((s) => !s.ok)?.step).toBe(failAt);
      const began = URL_STEPS.indexOf(failAt) >= URL_STEPS.indexOf("scratch database");
      // The only step after the failure is the drop of the scratch database the check began.
      expect(stepsAfterFailure(progress)).toEqual(began ? ["drop scratch database"] : []);
      if (began) {
        const scratch = `shipyard_verify_${idFrom(local.lines).replaceAll("-", "_")}`;
        expect(local.lines.at(-1)).toBe(line(dropDatabase({ binDir: null }, conn, scratch)));
      }
    },
  );

  it("at restore into scratch or verify row counts is refused as a dump that does not hold the source", async () => {
    await expect(backup(scene(env, { failAt: "restore into scratch" }).ctx)).rejects.toThrow(
      new BackupRefused("the dump does not restore: restore into scratch broke"),
    );
    const differs = scene(env, { answers: () => undefined });
    differs.ctx.queries = {
      ...(differs.ctx.queries as NonNullable<typeof differs.ctx.queries>),
      countRows: async () => [{ table: "public.orders", rows: 4 }],
    };
    await expect(backup(differs.ctx)).rejects.toThrow(
      /^the restored dump differs: table public\.orders has 4 rows, source had 5; table public\.products is missing/,
    );
    expect(await readdir(backups)).toEqual([]);
  });

  it("at encrypt removes both the plain dump and a half-written encrypted file", async () => {
    const encrypted = { ...env, backup: { ...env.backup, encryptTo: ["age1recipient"] } };
    const { ctx } = scene(encrypted, {
      answers: (c) => {
        if (c.argv[0] !== "age") return undefined;
        writeFileSync(c.argv[c.argv.indexOf("-o") + 1] ?? "", "half");
        return new Error("age: write failed");
      },
    });
    await expect(backup(ctx)).rejects.toThrow("age: write failed");
    expect(await readdir(backups)).toEqual([]);
  });

  it("at record (a damaged catalog) leaves the catalog as it was and no dump beside it", async () => {
    const damaged = '{"version": 1, "backups": [';
    await mkdir(backups, { recursive: true });
    await writeFile(path.join(backups, "catalog.json"), damaged);
    await expect(backup(scene(env).ctx)).rejects.toThrow(/catalog\.json is not valid JSON/);
    expect(await readdir(backups)).toEqual(["catalog.json"]);
    expect(await readFile(path.join(backups, "catalog.json"), "utf8")).toBe(damaged);
  });
});

describe("a full backup directory", () => {
  it("is refused by the preflight with one line naming it, before anything is dumped", async () => {
    const { ctx, local, progress } = scene(env, { databaseBytes: 7_600_000, freeBytes: 1_900_000 });
    const refused = backup(ctx);
    await expect(refused).rejects.toThrow(
      new NoSpaceLeft(`no space left on device in ${backups} (needs ~8 MB, has 1 MB)`),
    );
    await expect(refused).rejects.toMatchObject({ name: "NoSpaceLeft" });
    expect(local.lines).toEqual([line(databaseSize({ binDir: null }, conn)), line(freeSpace(backups))]);
    expect(progress.steps.at(-1)).toMatchObject({ step: "preflight: free space", ok: false });
    expect(await readdir(backups)).toEqual([]);
  });

  it("counts the encrypted copy beside the plain dump", async () => {
    const encrypted = { ...env, backup: { ...env.backup, encryptTo: ["age1recipient"] } };
    const { ctx } = scene(encrypted, { databaseBytes: 7_600_000, freeBytes: 9_000_000 });
    await expect(backup(ctx)).rejects.toThrow(`in ${backups} (needs ~16 MB, has 9 MB)`);
  });

  it("found by the dump (ENOSPC) is named with the directory and the space, not the raw command", async () => {
    const { ctx, progress } = scene(env, {
      answers: (c) => {
        if (c.argv[0] !== "pg_dump") return undefined;
        writeFileSync(c.argv.find((a) => a.startsWith("--file="))?.slice(7) ?? "", "half");
        return {
          exitCode: 1,
          stderr: "pg_dump: error: could not write to output file: No space left on device\n",
        };
      },
    });
    const failed = backup(ctx);
    await expect(failed).rejects.toThrow(
      new RegExp(`^no space left on device in ${backups} \\(needs ~8 MB, has \\d+ MB\\)$`),
    );
    await expect(failed).rejects.toBeInstanceOf(NoSpaceLeft);
    expect(progress.steps.find((s) => !s.ok)?.step).toBe("dump");
    expect(await readdir(backups)).toEqual([]);
  });

  it("is not blamed for a failure elsewhere: a scratch server out of space, a dump that fails with room here", async () => {
    const serverFull = scene(env, {
      answers: (c) =>
        c.argv[0] === "pg_restore"
          ? {
              exitCode: 1,
              stderr: 'pg_restore: error: could not extend file "base/1/2": No space left on device',
            }
          : undefined,
    });
    await expect(backup(serverFull.ctx)).rejects.toThrow(
      /^the dump does not restore: .*No space left on device/s,
    );

    const environment = inContainer();
    const broken = scene(environment, {
      answers: (c) => (c.stdoutFile ? { exitCode: 243, stderr: "SHIPYARD-COUNTS 7b22\n" } : undefined),
    });
    await expect(backup(broken.ctx)).rejects.toBeInstanceOf(CommandFailed);
  });
});

describe("an import (restore --file), run against FakeRunner", () => {
  it("copies the dump in, restores it into scratch, reads its database, and records the counts it restored to", async () => {
    const exported = path.join(dir, "exported.dump");
    await writeFile(exported, "PGDMP from elsewhere");
    const { ctx, local, progress } = scene(env);
    const entry = await importBackup(ctx, exported);
    const partial = path.join(backups, `${entry.id}.dump.partial`);
    const scratch = `shipyard_verify_${entry.id.replaceAll("-", "_")}`;
    expect(local.lines).toEqual(
      [
        dropDatabase({ binDir: null }, conn, scratch),
        createDatabase({ binDir: null }, conn, scratch),
        pgRestore({ binDir: null }, conn, partial, scratch, "into-empty"),
        dropDatabase({ binDir: null }, conn, scratch),
        pgRestoreList({ binDir: null }, partial),
      ].map(line),
    );
    expect(entry).toMatchObject({ database: "shop", tables: TABLES, reason: "imported from exported.dump" });
    expect(await readFile(path.join(backups, entry.file), "utf8")).toBe("PGDMP from elsewhere");
    expect(progress.steps.map((s) => s.step)).toEqual(planImportSteps(ctx, exported).map((s) => s.step));
  });

  it("refuses a file that is not a pg_dump archive, and keeps nothing", async () => {
    const notes = path.join(dir, "notes.txt");
    await writeFile(notes, "hello");
    const { ctx, local } = scene(env);
    await expect(importBackup(ctx, notes)).rejects.toThrow(
      /notes\.txt is not a pg_dump custom-format archive/,
    );
    expect(local.lines).toEqual([]);
    expect(await readdir(backups)).toEqual([]);
  });
});
