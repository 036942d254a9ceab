/**
 * Restore a catalogued backup over the environment's database: the file must still match its
 * recorded sha256 and hold what its entry records (database, tables, row counts: a scratch restore),
 * prod-like environments need an explicit confirmation, a verified safety backup of
 * the current data is taken first, the deploy lock is held throughout, and the result is checked
 * against the row counts recorded when the backup was verified.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ageDecrypt } from "../commands/age.js";
import type { Command } from "../commands/argv.js";
import { containerCounts, containerRestore, parseContainerCounts, pgRestore } from "../commands/postgres.js";
import { withLock } from "../locking.js";
import { type PlannedStep, planned } from "../progress.js";
import type { Runner } from "../runner.js";
import {
  type BackupContext,
  BackupRefused,
  backup,
  dumpsInContainer,
  postgresContainer,
  verifyHoldsEntry,
} from "./backup.js";
import type { TableCount } from "./catalog.js";
import { type BackupEntry, findBackup, readCatalog } from "./catalog.js";
import { sha256File } from "./files.js";
import { compareCounts, countRows } from "./table-counts.js";

export interface RestoreRequest {
  id: string;
  /** Must equal the environment's name when the environment requires confirmation. */
  confirm: string | undefined;
  /** age identity file, for encrypted backups. */
  ageIdentityFile: string | undefined;
  who: string;
  /** The file was verified against its entry moments ago (restore --file imports it that way). */
  justVerified?: boolean;
}

export function checkConfirmation(ctx: BackupContext, confirm: string | undefined): void {
  const name = ctx.environment.name;
  if (ctx.environment.requireConfirmation && confirm !== name) {
    throw new BackupRefused(
      `restoring replaces the data of "${name}"; confirm with --confirm=${name}` +
        (confirm ? ` (got --confirm=${confirm})` : ""),
    );
  }
}

export function planRestore(ctx: BackupContext, entry: BackupEntry, justVerified = false): PlannedStep[] {
  const file = path.join(ctx.directory, entry.file);
  const plain = entry.encrypted ? "<temp>/backup.dump" : file;
  return [
    planned("checksum", undefined, `sha256 of ${file} must be ${entry.sha256}`),
    ...(entry.encrypted ? [planned("decrypt", ageDecrypt("$SHIPYARD_AGE_IDENTITY_FILE", file, plain))] : []),
    ...(justVerified
      ? []
      : [
          planned(
            "contents",
            undefined,
            `the dump must be of database ${entry.database} and restore into a scratch database with every table at its recorded row count`,
          ),
        ]),
    planned(
      "lock",
      undefined,
      `deploy lock in ${ctx.environment.stateDirectory} on ${ctx.environment.target.kind === "ssh" ? ctx.environment.target.host : "this machine"}`,
    ),
    planned(
      "safety backup",
      undefined,
      "a full verified backup of the current data (see `backup --dry-run`)",
    ),
    planned("restore", restoreCommand(ctx, plain)),
    planned("verify row counts", undefined, `every table of the backup has exactly its recorded row count`),
    planned("unlock"),
  ];
}

/** restore --file: the dump joins the catalog after a scratch restore, then is restored like any backup. */
export function planImport(ctx: BackupContext, file: string): PlannedStep[] {
  const placeholder: BackupEntry = {
    id: "<imported-id>",
    env: ctx.environment.name,
    createdAt: new Date(0).toISOString(),
    file: "<imported-id>.dump",
    sizeBytes: 0,
    sha256: "<recorded at import>",
    verified: true,
    verifiedAt: new Date(0).toISOString(),
    encrypted: false,
    database: ctx.conn.database,
    tables: [],
  };
  return [
    planned(
      "import",
      undefined,
      `copy ${file} into ${ctx.directory}; it must be a pg_dump custom-format archive`,
    ),
    planned(
      "verify",
      undefined,
      "restore into a scratch database (see `backup --dry-run`); its row counts become the record",
    ),
    planned("record", undefined, `add it to ${path.join(ctx.directory, "catalog.json")}`),
    ...planRestore(ctx, placeholder, true),
  ];
}

/** Where the environment's backups are dumped, its restores are written: inside the container, or by URL. */
function restoreCommand(ctx: BackupContext, file: string): Command {
  return dumpsInContainer(ctx.environment)
    ? containerRestore(postgresContainer(ctx.environment), file)
    : pgRestore(ctx.tools, ctx.conn, file, ctx.conn.database, "replace");
}

async function currentCounts(ctx: BackupContext, hostRunner: Runner): Promise<TableCount[]> {
  if (!dumpsInContainer(ctx.environment)) return countRows(ctx.conn, ctx.conn.database);
  const { stdout } = await hostRunner.run(containerCounts(postgresContainer(ctx.environment)));
  return parseContainerCounts(stdout).tables;
}

export interface RestoreResult {
  restored: BackupEntry;
  safetyBackup: BackupEntry;
  /** Tables the backup does not contain; pg_restore --clean leaves them as they were. */
  untouchedTables: string[];
}

export async function restore(
  ctx: BackupContext,
  hostRunner: Runner,
  request: RestoreRequest,
): Promise<RestoreResult> {
  checkConfirmation(ctx, request.confirm);
  const entry = findBackup(await readCatalog(ctx.directory), request.id);
  const stored = path.join(ctx.directory, entry.file);

  await ctx.progress.step("checksum", async () => {
    let actual: string;
    try {
      actual = await sha256File(stored);
    } catch (error) {
      throw new BackupRefused(`backup file ${stored} cannot be read: ${(error as Error).message}`);
    }
    if (actual !== entry.sha256) {
      throw new BackupRefused(
        `backup ${entry.id} is corrupted: ${stored} has sha256 ${actual}, the catalog recorded ${entry.sha256}`,
      );
    }
  });

  const work = await mkdtemp(path.join(os.tmpdir(), "shipyard-restore-"));
  try {
    let plain = stored;
    if (entry.encrypted) {
      const identity = request.ageIdentityFile;
      if (!identity)
        throw new BackupRefused(
          `backup ${entry.id} is encrypted: set SHIPYARD_AGE_IDENTITY_FILE to the age identity file`,
        );
      plain = path.join(work, "backup.dump");
      const decrypt = ageDecrypt(identity, stored, plain);
      await ctx.progress.step("decrypt", () => ctx.runner.run(decrypt));
    }
    if (!request.justVerified) await verifyHoldsEntry(ctx, plain, entry);

    return await withLock(
      hostRunner,
      ctx.environment,
      ctx.progress,
      { who: request.who, purpose: `restore ${entry.id}` },
      async () => {
        const safety = await backup(ctx, {
          reason: `safety backup before restoring ${entry.id}`,
          applyRetention: false,
        });
        // In the container, pg_restore runs on the host; by URL, here.
        const runner = dumpsInContainer(ctx.environment) ? hostRunner : ctx.runner;
        await ctx.progress.step("restore", () => runner.run(restoreCommand(ctx, plain)));
        const untouchedTables = await ctx.progress.step(
          "verify row counts",
          async () => {
            const actual = await currentCounts(ctx, hostRunner);
            const inBackup = new Set(entry.tables.map((t) => t.table));
            const problems = compareCounts(
              entry.tables,
              actual.filter((t) => inBackup.has(t.table)),
            );
            if (problems.length > 0) {
              throw new Error(
                `restore finished but the data differs from backup ${entry.id}: ${problems.join("; ")}. ` +
                  `The data before the restore is in backup ${safety.entry.id}.`,
              );
            }
            return actual.filter((t) => !inBackup.has(t.table)).map((t) => t.table);
          },
          (extra) =>
            extra.length ? `tables not in the backup, left as they were: ${extra.join(", ")}` : undefined,
        );
        return { restored: entry, safetyBackup: safety.entry, untouchedTables };
      },
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
