/**
 * A verified backup: dump at an exported snapshot, checksum, restore into a scratch database,
 * compare every table's exact row count with the source's at that snapshot, and only then record
 * it in the catalog. Anything that fails on the way leaves the catalog untouched.
 */
import { chmod, copyFile, mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { ageEncrypt } from "../commands/age.js";
import type { Command } from "../commands/argv.js";
import { compose } from "../commands/compose.js";
import {
  type ComposeExecTarget,
  type Connection,
  containerDump,
  createDatabase,
  dropDatabase,
  dumpedDatabase,
  parseContainerDumpReport,
  pgDump,
  pgRestore,
  pgRestoreList,
  type Tools,
} from "../commands/postgres.js";
import type { Environment } from "../config/environments.js";
import { type PlannedStep, type Progress, planned } from "../progress.js";
import { type Runner, runnerFor } from "../runner.js";
import {
  type BackupEntry,
  findBackup,
  newBackupId,
  readCatalog,
  type TableCount,
  updateCatalog,
} from "./catalog.js";
import { fileSize, sha256File } from "./files.js";
import { uploadBackup, uploadLocation } from "./offsite.js";
import { applyRetention } from "./retention.js";
import { compareCounts, countRows, holdSnapshot } from "./table-counts.js";

export interface BackupContext {
  environment: Environment;
  conn: Connection;
  tools: Tools;
  /** Runs the Postgres and age tools; they run where the CLI runs and reach the database by URL. */
  runner: Runner;
  /** The server the verification restores into a scratch database on; default: the source's server. */
  scratch?: Connection;
  /**
   * The environment's host, where pg_dump runs in the Postgres container (database.dumpFrom:
   * compose-service); when left out, one is opened for the dump and closed after.
   */
  host?: Runner;
  progress: Progress;
  /** Resolved backup directory. */
  directory: string;
  now?: () => Date;
  /** Where the off-site store's credentials are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
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

export const dumpsInContainer = (environment: Environment) =>
  environment.database.dumpFrom === "compose-service";

/** The environment's Postgres service, reached with the same compose invocation every release step uses. */
export function postgresContainer(environment: Environment): ComposeExecTarget {
  return {
    composePrefix: compose(environment, []).argv,
    service: environment.database.service ?? "postgres",
  };
}

function commandsFor(ctx: BackupContext, p: Paths, snapshot: string | null) {
  const encryptTo = ctx.environment.backup.encryptTo;
  const scratch = ctx.scratch ?? ctx.conn;
  return {
    dump: dumpsInContainer(ctx.environment)
      ? containerDump(postgresContainer(ctx.environment), p.partial)
      : pgDump(ctx.tools, ctx.conn, p.partial, snapshot),
    createScratch: createDatabase(ctx.tools, scratch, p.scratch),
    restoreScratch: pgRestore(ctx.tools, scratch, p.partial, p.scratch, "into-empty"),
    dropScratch: dropDatabase(ctx.tools, scratch, p.scratch),
    encrypt: encryptTo.length > 0 ? ageEncrypt(encryptTo, p.partial, p.stored) : null,
  };
}

/** The plan --dry-run prints: the same commands the run executes. */
export function planBackup(ctx: BackupContext, id = "<id>"): PlannedStep[] {
  const p = pathsFor(ctx, id);
  const c = commandsFor(ctx, p, "<exported-at-run-time>");
  const inContainer = dumpsInContainer(ctx.environment);
  return [
    ...(inContainer
      ? [
          planned(
            "dump in container",
            c.dump,
            "psql in the container: BEGIN REPEATABLE READ; pg_export_snapshot(); count rows of every table; pg_dump --snapshot to stdout",
          ),
        ]
      : [
          planned(
            "snapshot",
            undefined,
            "BEGIN REPEATABLE READ; pg_export_snapshot(); count rows of every table",
          ),
          planned("dump", c.dump),
        ]),
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
    ...(ctx.environment.backup.upload
      ? [
          planned(
            "upload",
            undefined,
            `to ${uploadLocation(ctx.environment.backup.upload, { id, file: path.basename(p.stored) }).url}` +
              `${ctx.environment.backup.upload.endpoint ? ` at ${ctx.environment.backup.upload.endpoint}` : ""}, ` +
              "then read back its size and sha256; a manifest <id>.json beside it",
          ),
        ]
      : []),
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

/**
 * Restores `dumpFile` into a fresh scratch database and checks it against `expected` (or, with null,
 * takes what the restore yields as the record); always drops the scratch. Returns the restored counts.
 */
export async function verifyDump(
  ctx: BackupContext,
  p: Paths,
  expected: readonly TableCount[] | null,
): Promise<TableCount[]> {
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
    return await ctx.progress.step(
      "verify row counts",
      async () => {
        const actual = await countRows(ctx.scratch ?? ctx.conn, p.scratch);
        const problems = expected ? compareCounts(expected, actual) : [];
        if (problems.length > 0) throw new BackupRefused(`the restored dump differs: ${problems.join("; ")}`);
        return actual;
      },
      (actual) => `${actual.length} tables, ${actual.reduce((n, t) => n + t.rows, 0)} rows match`,
    );
  } finally {
    await ctx.progress.step("drop scratch database", () => run(ctx, c.dropScratch));
  }
}

/**
 * Before a restore replaces live data, the file must hold what its catalog entry records: a dump of that
 * database, with every table at its exact row count (found by restoring it into a scratch database). A
 * checksum only proves the file is the one the catalog names; an edited catalog can name another dump.
 */
export async function verifyHoldsEntry(ctx: BackupContext, file: string, entry: BackupEntry): Promise<void> {
  const refuse = (what: string) =>
    new BackupRefused(
      `backup ${entry.id} does not hold what the catalog records: ${what}; nothing was restored`,
    );
  const database = await ctx.progress.step("contents", async () =>
    dumpedDatabase((await ctx.runner.run(pgRestoreList(ctx.tools, file))).stdout),
  );
  if (database !== entry.database) {
    throw refuse(`it is a dump of database "${database}", the catalog says "${entry.database}"`);
  }
  try {
    await verifyDump(ctx, { ...pathsFor(ctx, `check-${entry.id}`), partial: file }, entry.tables);
  } catch (error) {
    throw error instanceof BackupRefused ? refuse(error.message) : error;
  }
}

/** How the off-site copy went; a failed upload leaves the backup verified and kept here. */
export type UploadOutcome = { ok: true; url: string } | { ok: false; error: string };

export interface BackupResult {
  entry: BackupEntry;
  removed: string[];
  /** Only when the environment has backup.upload. */
  upload?: UploadOutcome;
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
  let stored = false;
  try {
    const source = dumpsInContainer(ctx.environment)
      ? await dumpInContainer(ctx, p)
      : await dumpByUrl(ctx, p);
    await verifyDump(ctx, p, source.counts);

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

    const recorded = await record(ctx, p, {
      createdAt,
      encrypted: encrypt !== null,
      database: source.database,
      tables: source.counts,
      ...(options.reason ? { reason: options.reason } : {}),
    });
    stored = true;
    const { entry, upload } = await uploadIfConfigured(ctx, recorded);

    if (options.applyRetention === false) return { entry, removed: [], ...(upload ? { upload } : {}) };
    const removed = await ctx.progress.step(
      "retention",
      () => pruneBackups(ctx.directory, ctx.environment.backup.retention),
      (ids) => (ids.length ? `removed ${ids.join(", ")}` : "nothing to remove"),
    );
    return { entry, removed, ...(upload ? { upload } : {}) };
  } catch (error) {
    await rm(p.partial, { force: true });
    // Once catalogued, the file is a good backup whatever fails after.
    if (!stored) await rm(p.stored, { force: true });
    throw error;
  }
}

/** Off-site after the record: a store that is down costs the copy, never the verified backup here. */
async function uploadIfConfigured(
  ctx: BackupContext,
  entry: BackupEntry,
): Promise<{ entry: BackupEntry; upload?: UploadOutcome }> {
  if (!ctx.environment.backup.upload) return { entry };
  try {
    const uploaded = await uploadCatalogued(ctx, entry);
    return { entry: uploaded, upload: { ok: true, url: uploaded.offsite?.url ?? "" } };
  } catch (error) {
    return { entry, upload: { ok: false, error: (error as Error).message } };
  }
}

/**
 * Uploads a catalogued backup (again, e.g. after the store was down) and records where it went. The file
 * must still have the checksum it was catalogued with: a copy of a changed file would be no backup.
 */
export async function uploadCatalogued(ctx: BackupContext, entry: BackupEntry): Promise<BackupEntry> {
  const target = ctx.environment.backup.upload;
  if (!target)
    throw new Error(
      `"${ctx.environment.name}" has no backup.upload in the environments file: nowhere to upload to`,
    );
  const file = path.join(ctx.directory, entry.file);
  return ctx.progress.step(
    "upload",
    async () => {
      const actual = await sha256File(file).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${file} (${error.code}): the catalogued file is gone`);
      });
      if (actual !== entry.sha256)
        throw new Error(
          `${file} has sha256 ${actual}, not the ${entry.sha256} it was verified with; not uploading`,
        );
      const offsite = await uploadBackup(target, ctx.env ?? process.env, file, entry, ctx.now);
      const updated: BackupEntry = { ...entry, offsite };
      await updateCatalog(ctx.directory, (all) => all.map((b) => (b.id === entry.id ? updated : b)));
      return updated;
    },
    (e) => e.offsite?.url,
  );
}

/** The `upload` command: a catalogued backup by its id. */
export async function uploadById(ctx: BackupContext, id: string): Promise<BackupEntry> {
  return uploadCatalogued(ctx, findBackup(await readCatalog(ctx.directory), id));
}

interface DumpedSource {
  database: string;
  /** The source's exact row counts at the moment the dump describes. */
  counts: TableCount[];
}

const describeSize = (size: number) => `${(size / 1e6).toFixed(2)} MB`;

async function dumpByUrl(ctx: BackupContext, p: Paths): Promise<DumpedSource> {
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
      describeSize,
    );
  } finally {
    await snapshot.release();
  }
  return { database: ctx.conn.database, counts: snapshot.counts };
}

/** pg_dump runs on the host in the Postgres container; the dump streams back into the local partial file. */
async function dumpInContainer(ctx: BackupContext, p: Paths): Promise<DumpedSource> {
  const host = ctx.host ?? (await runnerFor(ctx.environment, process.env));
  try {
    return await dumpOn(ctx, p, host);
  } finally {
    if (host !== ctx.host) await host.close();
  }
}

async function dumpOn(ctx: BackupContext, p: Paths, host: Runner): Promise<DumpedSource> {
  const { report } = await ctx.progress.step(
    "dump in container",
    async () => {
      const result = await host.run(commandsFor(ctx, p, null).dump);
      const report = parseContainerDumpReport(result.stderr);
      await chmod(p.partial, 0o600);
      return { report, size: await fileSize(p.partial) };
    },
    ({ report, size }) =>
      `${report.database} on ${host.where}: ${report.tables.length} tables, ${describeSize(size)}`,
  );
  return { database: report.database, counts: report.tables };
}

type Recorded = Pick<BackupEntry, "encrypted" | "database" | "tables" | "reason"> & { createdAt: Date };

/** Adds a verified, stored file to the catalog with its checksum: the last step, so only good backups are listed. */
function record(ctx: BackupContext, p: Paths, facts: Recorded): Promise<BackupEntry> {
  const now = ctx.now ?? (() => new Date());
  return ctx.progress.step(
    "record",
    async () => {
      const { createdAt, ...rest } = facts;
      const entry: BackupEntry = {
        id: p.id,
        env: ctx.environment.name,
        createdAt: createdAt.toISOString(),
        file: path.basename(p.stored),
        sizeBytes: await fileSize(p.stored),
        sha256: await sha256File(p.stored),
        verified: true,
        verifiedAt: now().toISOString(),
        ...rest,
      };
      await updateCatalog(ctx.directory, (backups) => [...backups, entry]);
      return entry;
    },
    (e) => `${e.id} sha256:${e.sha256.slice(0, 12)}…`,
  );
}

/** The first bytes of every pg_dump custom-format archive. */
const CUSTOM_FORMAT_MAGIC = "PGDMP";

/**
 * A dump made elsewhere (e.g. exported by `dagger call backup`) joins the catalog only the way every
 * backup does: it must restore into a scratch database; the row counts it restores to become its record,
 * which a restore then checks the target against.
 */
export async function importBackup(ctx: BackupContext, file: string): Promise<BackupEntry> {
  const now = ctx.now ?? (() => new Date());
  const createdAt = now();
  const id = newBackupId(ctx.environment.name, createdAt);
  // Stored as it came: plain, whatever encryption the environment applies to its own backups.
  const p = { ...pathsFor(ctx, id), stored: path.join(ctx.directory, `${id}.dump`) };
  await mkdir(ctx.directory, { recursive: true, mode: 0o700 });
  try {
    await ctx.progress.step("import", async () => {
      const handle = await open(file, "r").catch((error: NodeJS.ErrnoException) => {
        throw new BackupRefused(`cannot read ${file} (${error.code}): pass the path of a dump file`);
      });
      try {
        const { buffer } = await handle.read(
          Buffer.alloc(CUSTOM_FORMAT_MAGIC.length),
          0,
          CUSTOM_FORMAT_MAGIC.length,
          0,
        );
        if (buffer.toString("latin1") !== CUSTOM_FORMAT_MAGIC)
          throw new BackupRefused(
            `${file} is not a pg_dump custom-format archive (an age-encrypted backup must be decrypted first)`,
          );
      } finally {
        await handle.close();
      }
      await copyFile(file, p.partial);
      await chmod(p.partial, 0o600);
    });
    const tables = await verifyDump(ctx, p, null);
    const database = dumpedDatabase((await ctx.runner.run(pgRestoreList(ctx.tools, p.partial))).stdout);
    await rename(p.partial, p.stored);
    return await record(ctx, p, {
      createdAt,
      encrypted: false,
      database,
      tables,
      reason: `imported from ${path.basename(file)}`,
    });
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
