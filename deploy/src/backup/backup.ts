/**
 * A verified backup: dump at an exported snapshot, checksum, restore into a scratch database,
 * compare every table's exact row count with the source's at that snapshot, and only then record
 * it in the catalog. Anything that fails on the way leaves the catalog untouched.
 */
import { chmod, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { ageEncrypt } from "../commands/age.js";
import type { Command } from "../commands/argv.js";
import {
  type Connection,
  createDatabase,
  dropDatabase,
  pgDump,
  pgRestore,
  type Tools,
} from "../commands/postgres.js";
import type { Environment } from "../config/environments.js";
import { type PlannedStep, type Progress, planned } from "../progress.js";
import type { Runner } from "../runner.js";
import { type BackupEntry, newBackupId, type TableCount, updateCatalog } from "./catalog.js";
import { fileSize, sha256File } from "./files.js";
import { applyRetention } from "./retention.js";
import { compareCounts, countRows, holdSnapshot } from "./table-counts.js";

export interface BackupContext {
  environment: Environment;
  conn: Connection;
  tools: Tools;
  /** Runs the Postgres and age tools; they run where the CLI runs and reach the database by URL. */
  runner: Runner;
  progress: Progress;
  /** Resolved backup directory. */
  directory: string;
  now?: () => Date;
}

interface Paths {
  id: string;
  partial: string;
  stored: string;
  scratch: string;
}

function pathsFor(ctx: BackupContext, id: string): Paths {
  const encrypted = ctx.environment.backup.encryptTo.length > 0;
  return {
    id,
    partial: path.join(ctx.directory, `${id}.dump.partial`),
    stored: path.join(ctx.directory, `${id}.dump${encrypted ? ".age" : ""}`),
    // Postgres folds unquoted names to lower case and allows 63 bytes.
    scratch: `shipyard_verify_${id.replaceAll("-", "_")}`.slice(0, 63),
  };
}

function commandsFor(ctx: BackupContext, p: Paths, snapshot: string | null) {
  const encryptTo = ctx.environment.backup.encryptTo;
  return {
    dump: pgDump(ctx.tools, ctx.conn, p.partial, snapshot),
    createScratch: createDatabase(ctx.tools, ctx.conn, p.scratch),
    restoreScratch: pgRestore(ctx.tools, ctx.conn, p.partial, p.scratch, "into-empty"),
    dropScratch: dropDatabase(ctx.tools, ctx.conn, p.scratch),
    encrypt: encryptTo.length > 0 ? ageEncrypt(encryptTo, p.partial, p.stored) : null,
  };
}

/** The plan --dry-run prints: the same commands the run executes. */
export function planBackup(ctx: BackupContext, id = "<id>"): PlannedStep[] {
  const p = pathsFor(ctx, id);
  const c = commandsFor(ctx, p, "<exported-at-run-time>");
  return [
    planned("snapshot", undefined, "BEGIN REPEATABLE READ; pg_export_snapshot(); count rows of every table"),
    planned("dump", c.dump),
    planned("scratch database", c.createScratch),
    planned("restore into scratch", c.restoreScratch),
    planned("verify row counts", undefined, `count rows in ${p.scratch}; must equal the snapshot's`),
    planned("drop scratch database", c.dropScratch),
    ...(c.encrypt ? [planned("encrypt", c.encrypt)] : []),
    planned(
      "record",
      undefined,
      `sha256, move to ${p.stored}, add to ${path.join(ctx.directory, "catalog.json")}`,
    ),
    planned(
      "retention",
      undefined,
      `keep the last ${ctx.environment.backup.retention.last}, the newest of ${ctx.environment.backup.retention.daily} days and of ${ctx.environment.backup.retention.weekly} weeks`,
    ),
  ];
}

async function run(ctx: BackupContext, command: Command): Promise<void> {
  await ctx.runner.run(command);
}

export class BackupRefused extends Error {
  override name = "BackupRefused";
}

/** Restores `dumpFile` into a fresh scratch database and checks it against `expected`; always drops the scratch. */
export async function verifyDump(
  ctx: BackupContext,
  p: Paths,
  expected: readonly TableCount[],
): Promise<void> {
  const c = commandsFor(ctx, p, null);
  await run(ctx, c.dropScratch); // a leftover from a killed run must not make the check pass
  try {
    await ctx.progress.step(
      "scratch database",
      () => run(ctx, c.createScratch),
      () => p.scratch,
    );
    await ctx.progress.step("restore into scratch", async () => {
      try {
        await run(ctx, c.restoreScratch);
      } catch (error) {
        throw new BackupRefused(`the dump does not restore: ${(error as Error).message}`);
      }
    });
    await ctx.progress.step(
      "verify row counts",
      async () => {
        const actual = await countRows(ctx.conn, p.scratch);
        const problems = compareCounts(expected, actual);
        if (problems.length > 0) throw new BackupRefused(`the restored dump differs: ${problems.join("; ")}`);
        return actual;
      },
      (actual) => `${actual.length} tables, ${actual.reduce((n, t) => n + t.rows, 0)} rows match`,
    );
  } finally {
    await ctx.progress.step("drop scratch database", () => run(ctx, c.dropScratch));
  }
}

export interface BackupResult {
  entry: BackupEntry;
  removed: string[];
}

export interface BackupOptions {
  reason?: string;
  /** Off for the safety backup a restore takes: pruning then could delete the very backup being restored. */
  applyRetention?: boolean;
}

export async function backup(ctx: BackupContext, options: BackupOptions = {}): Promise<BackupResult> {
  const now = ctx.now ?? (() => new Date());
  const createdAt = now();
  const p = pathsFor(ctx, newBackupId(ctx.environment.name, createdAt));
  await mkdir(ctx.directory, { recursive: true, mode: 0o700 });
  try {
    const snapshot = await ctx.progress.step(
      "snapshot",
      () => holdSnapshot(ctx.conn, ctx.conn.database),
      (s) => `${s.counts.length} tables, ${s.counts.reduce((n, t) => n + t.rows, 0)} rows`,
    );
    try {
      await ctx.progress.step(
        "dump",
        async () => {
          await run(ctx, commandsFor(ctx, p, snapshot.id).dump);
          await chmod(p.partial, 0o600);
          return fileSize(p.partial);
        },
        (size) => `${(size / 1e6).toFixed(2)} MB`,
      );
    } finally {
      await snapshot.release();
    }
    await verifyDump(ctx, p, snapshot.counts);

    const encrypt = commandsFor(ctx, p, null).encrypt;
    if (encrypt) {
      await ctx.progress.step("encrypt", async () => {
        await run(ctx, encrypt);
        await chmod(p.stored, 0o600);
        await rm(p.partial);
      });
    } else {
      await rename(p.partial, p.stored);
    }

    const entry = await ctx.progress.step(
      "record",
      async () => {
        const entry: BackupEntry = {
          id: p.id,
          env: ctx.environment.name,
          createdAt: createdAt.toISOString(),
          file: path.basename(p.stored),
          sizeBytes: await fileSize(p.stored),
          sha256: await sha256File(p.stored),
          verified: true,
          verifiedAt: now().toISOString(),
          encrypted: encrypt !== null,
          database: ctx.conn.database,
          tables: snapshot.counts,
          ...(options.reason ? { reason: options.reason } : {}),
        };
        await updateCatalog(ctx.directory, (backups) => [...backups, entry]);
        return entry;
      },
      (e) => `${e.id} sha256:${e.sha256.slice(0, 12)}…`,
    );

    if (options.applyRetention === false) return { entry, removed: [] };
    const removed = await ctx.progress.step(
      "retention",
      () => pruneBackups(ctx.directory, ctx.environment.backup.retention),
      (ids) => (ids.length ? `removed ${ids.join(", ")}` : "nothing to remove"),
    );
    return { entry, removed };
  } catch (error) {
    await rm(p.partial, { force: true });
    await rm(p.stored, { force: true });
    throw error;
  }
}

/** Catalog first, files after: a crash in between leaves an orphan file, never a listed backup without its file. */
export async function pruneBackups(
  directory: string,
  retention: Environment["backup"]["retention"],
): Promise<string[]> {
  let remove: BackupEntry[] = [];
  await updateCatalog(directory, (all) => {
    const decision = applyRetention(all, retention);
    remove = decision.remove;
    return decision.keep;
  });
  await Promise.all(remove.map((b) => rm(path.join(directory, b.file), { force: true })));
  return remove.map((b) => b.id);
}
