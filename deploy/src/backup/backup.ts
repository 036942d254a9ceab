/**
 * A verified backup as its list of steps, which steps.ts runs or prints for --dry-run: a preflight that
 * the backup directory can hold it, a dump at an exported snapshot, a restore into a scratch database whose
 * every table must have the source's exact row count at that snapshot (scratch-check.ts), and only then
 * the record in the catalog. A failure on the way leaves the catalog untouched and no file behind, and a
 * full backup directory is named as such.
 */
import { chmod, mkdir, rename, rm, stat, statfs } from "node:fs/promises";
import path from "node:path";
import { ageEncrypt } from "../commands/age.js";
import { freeSpace } from "../commands/disk.js";
import {
  containerDatabaseSize,
  containerDump,
  databaseSize,
  parseContainerDumpReport,
  parseDatabaseSize,
  pgDump,
  pgRestoreList,
} from "../commands/postgres.js";
import type { Environment } from "../config/environments.js";
import type { PlannedStep, Progress } from "../progress.js";
import { parseFreeBytes } from "../release/decisions.js";
import { type Runner, runnerFor } from "../runner.js";
import {
  attemptSteps,
  type Exec,
  effect,
  later,
  planSteps,
  runSteps,
  type Step,
  type Steps,
  step,
} from "../steps.js";
import { backupTimeSteps } from "./backup-time.js";
import {
  type BackupEntry,
  catalogFile,
  findBackup,
  localCatalog,
  newBackupId,
  readCatalog,
  updateCatalog,
} from "./catalog.js";
import { retentionStep, uploadStep } from "./closing-steps.js";
import {
  type BackupContext,
  backupsOnServer,
  dumpsInContainer,
  execFor,
  type Paths,
  POSTGRES_QUERIES,
  pathsFor,
  postgresContainer,
} from "./context.js";
import {
  type BackupFacts,
  type BackupOptions,
  BackupRefused,
  type BackupResult,
  describeSize,
  importedRecord,
  keepImportedSource,
  NoSpaceLeft,
  rowsIn,
  sourceOf,
  startingFacts,
} from "./facts.js";
import { checkArchive, copyCounted, fileSize, sha256File } from "./files.js";
import {
  backupOnServer,
  importOnServer,
  planBackupOnServer,
  planImportOnServer,
  uploadByIdOnServer,
} from "./on-server.js";
import { applyRetention } from "./retention.js";
import { scratchCheck, scratchLeftBehind } from "./scratch-check.js";
import { estimateNeed, noSpaceMessage, outOfSpace, spaceRefusal } from "./space.js";
import { uploadEntry } from "./upload-entry.js";

export { type BackupContext, backupsOnServer, dumpsInContainer, postgresContainer } from "./context.js";
export {
  type BackupFacts,
  type BackupOptions,
  BackupRefused,
  type BackupResult,
  NoSpaceLeft,
  startingFacts,
  type UploadOutcome,
} from "./facts.js";

/** The steps that write into the backup directory: a failure in one of them may be a full disk. */
const WRITES_HERE = new Set(["dump", "dump in container", "encrypt", "import", "record"]);

const here = { on: "local" } as const;

/** The steps of one backup into `p`. */
function backupSteps(
  ctx: BackupContext,
  p: Paths,
  createdAt: Date,
  options: BackupOptions,
): Steps<BackupFacts> {
  const { encryptTo, upload, retention } = ctx.environment.backup;
  const encrypt = encryptTo.length > 0 ? ageEncrypt(encryptTo, p.partial, p.stored) : null;
  return [
    ...preflight(ctx, encrypt !== null),
    ...(dumpsInContainer(ctx.environment) ? dumpInContainer(ctx, p) : dumpByUrl(ctx, p)),
    ...scratchCheck<BackupFacts>(
      ctx,
      { file: p.partial, scratch: p.scratch },
      (f) => sourceOf(f).counts,
      (what) => new BackupRefused(what),
    ),
    ...(encrypt
      ? [
          effect<BackupFacts, void>(
            "encrypt",
            async (_, x) => {
              await x.local.run(encrypt);
              await chmod(p.stored, 0o600);
              await rm(p.partial);
            },
            { shows: encrypt },
          ),
        ]
      : []),
    recordStep(ctx, p, (f) => ({
      createdAt,
      encrypted: encrypt !== null,
      database: sourceOf(f).database,
      tables: sourceOf(f).counts,
      ...(options.reason ? { reason: options.reason } : {}),
    })),
    ...backupTimeSteps<BackupFacts>(ctx.environment),
    ...(options.fetchTo ? [copyOut(p, path.resolve(options.fetchTo))] : []),
    // Off-site after the record: a store that is down costs the copy, never the verified backup here.
    ...(upload
      ? [uploadStep(upload, { id: p.id, file: p.stored }, (f) => uploadHere(ctx, f.entry as BackupEntry))]
      : []),
    ...(options.applyRetention === false
      ? []
      : [retentionStep(retention, () => pruneBackups(ctx.directory, retention))]),
  ];
}

/** --fetch-to: a copy of the stored file (as stored: encrypted when it is) where the caller wants it. */
function copyOut(p: Paths, to: string): Step<BackupFacts> {
  return effect(
    "fetch",
    async (f, x) => {
      await mkdir(path.dirname(to), { recursive: true });
      const size = (f.entry as BackupEntry).sizeBytes;
      await x.progress.transfer(size, (moved) => copyCounted(p.stored, to, moved.add));
      await chmod(to, 0o600);
      return to;
    },
    {
      keep: (fetched, f) => {
        f.fetched = fetched;
      },
      detail: (fetched) => `to ${fetched}`,
      note: `copy ${p.stored} to ${to}`,
    },
  );
}

/** Before anything is written: the directory must hold what the database's size says the backup needs. */
function preflight(ctx: BackupContext, encrypted: boolean): Steps<BackupFacts> {
  const inContainer = dumpsInContainer(ctx.environment);
  const size = inContainer
    ? containerDatabaseSize(postgresContainer(ctx.environment))
    : databaseSize(ctx.tools, ctx.conn);
  return [
    step("preflight: database size", size, {
      on: inContainer ? "host" : "local",
      keep: (r, f) => {
        f.needs = estimateNeed(parseDatabaseSize(r.stdout), encrypted);
      },
      detail: (r) => describeSize(parseDatabaseSize(r.stdout)),
      note: "pg_database_size, through psql as the dump connects",
    }),
    step("preflight: free space", freeSpace(ctx.directory), {
      ...here,
      keep: (r, f) => {
        const refusal = spaceRefusal(ctx.directory, f.needs ?? 0, parseFreeBytes(r.stdout));
        if (refusal) throw new NoSpaceLeft(refusal);
      },
      detail: (r) => `${describeSize(parseFreeBytes(r.stdout))} free in ${ctx.directory}`,
      note: `must hold the database's size${encrypted ? " twice (the dump and its encrypted copy)" : ""}`,
    }),
  ];
}

async function releaseSnapshot(facts: BackupFacts): Promise<void> {
  const held = facts.snapshot;
  facts.snapshot = null;
  await held?.release();
}

/** By URL: the counts in one transaction, then pg_dump of exactly its snapshot, on this machine. */
function dumpByUrl(ctx: BackupContext, p: Paths): Steps<BackupFacts> {
  const queries = ctx.queries ?? POSTGRES_QUERIES;
  return [
    effect("snapshot", () => queries.holdSnapshot(ctx.conn, ctx.conn.database), {
      keep: (held, f) => {
        f.snapshot = held;
        f.source = { database: ctx.conn.database, counts: held.counts };
      },
      detail: (held) => `${held.counts.length} tables, ${rowsIn(held.counts)} rows`,
      note: "BEGIN REPEATABLE READ; pg_export_snapshot(); count rows of every table",
    }),
    later((f) => {
      const dump = pgDump(ctx.tools, ctx.conn, p.partial, f.snapshot?.id ?? null);
      return [
        effect(
          "dump",
          async (f: BackupFacts, x) => {
            try {
              // pg_dump writes the file itself: its progress is how far it has written it.
              await x.progress.transfer(null, async (moved) => {
                await x.local.run(dump, { position: { file: p.partial, at: moved.reached } });
                moved.reached(await fileSize(p.partial));
              });
            } finally {
              await releaseSnapshot(f);
            }
            await chmod(p.partial, 0o600);
            return fileSize(p.partial);
          },
          { shows: dump, detail: describeSize },
        ),
      ];
    }),
  ];
}

/** pg_dump runs on the host in the Postgres container; the dump streams back into the local partial file. */
function dumpInContainer(ctx: BackupContext, p: Paths): Steps<BackupFacts> {
  const dump = containerDump(postgresContainer(ctx.environment), p.partial);
  return [
    effect(
      "dump in container",
      async (_, x: Exec) => {
        const result = await x.progress.transfer(null, (moved) =>
          x.runner.run(dump, { streamed: moved.add }),
        );
        const report = parseContainerDumpReport(result.stderr);
        await chmod(p.partial, 0o600);
        return { report, size: await fileSize(p.partial), where: x.runner.where };
      },
      {
        shows: dump,
        keep: ({ report }, f: BackupFacts) => {
          f.source = { database: report.database, counts: report.tables };
        },
        detail: ({ report, size, where }) =>
          `${report.database} on ${where}: ${report.tables.length} tables, ${describeSize(size)}`,
        note: "psql in the container: BEGIN REPEATABLE READ; pg_export_snapshot(); count rows of every table; pg_dump --snapshot to stdout",
      },
    ),
  ];
}

type Recorded = Pick<BackupEntry, "encrypted" | "database" | "tables" | "reason"> & { createdAt: Date };

/** Adds the verified file to the catalog with its checksum: the last step, so only good backups are listed. */
function recordStep(ctx: BackupContext, p: Paths, recorded: (facts: BackupFacts) => Recorded) {
  const now = ctx.now ?? (() => new Date());
  return effect(
    "record",
    async (f: BackupFacts) => {
      const { createdAt, ...rest } = recorded(f);
      // An encrypted backup is already in place (age wrote it); a plain one moves there now.
      if (!rest.encrypted) await rename(p.partial, p.stored);
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
    {
      keep: (entry, f) => {
        f.entry = entry;
      },
      detail: (e) => `${e.id} sha256:${e.sha256.slice(0, 12)}…`,
      note: `sha256, move to ${p.stored}, add to ${catalogFile(ctx.directory)}`,
    },
  );
}

/** The plan --dry-run prints: the steps the run takes, with placeholders for what only the run finds out. */
export function planBackup(ctx: BackupContext, id = "<id>", options: BackupOptions = {}): PlannedStep[] {
  if (backupsOnServer(ctx.environment)) return planBackupOnServer(ctx, id, options);
  const facts: BackupFacts = {
    ...startingFacts(),
    snapshot: { id: "<exported-at-run-time>", counts: [], release: async () => {} },
  };
  return planSteps(backupSteps(ctx, pathsFor(ctx, id), new Date(0), options), facts);
}

export async function backup(ctx: BackupContext, options: BackupOptions = {}): Promise<BackupResult> {
  // Kept on the server: every step runs there (backups kept on the server are dumped in the container).
  if (backupsOnServer(ctx.environment))
    return withHost(ctx, (host) => backupOnServer(ctx, host as Runner, options));
  const createdAt = (ctx.now ?? (() => new Date()))();
  const p = pathsFor(ctx, newBackupId(ctx.environment.name, createdAt));
  const facts = startingFacts();
  await mkdir(ctx.directory, { recursive: true, mode: 0o700 });
  await withHost(ctx, (host) =>
    runCleaningUp(ctx, p, backupSteps(ctx, p, createdAt, options), facts, execFor(ctx, host)),
  );
  const entry = facts.entry as BackupEntry;
  return {
    entry,
    removed: facts.removed,
    ...(facts.upload ? { upload: facts.upload } : {}),
    ...(facts.fetched ? { fetchedTo: facts.fetched } : {}),
  };
}

/** The host, for an environment dumped in its container: the context's, or one opened for the backup. */
async function withHost<T>(ctx: BackupContext, work: (host: Runner | undefined) => Promise<T>): Promise<T> {
  if (!dumpsInContainer(ctx.environment)) return work(undefined);
  const host = ctx.host ?? (await runnerFor(ctx.environment, process.env));
  try {
    return await work(host);
  } finally {
    if (host !== ctx.host) await host.close();
  }
}

/** Bytes free in the directory's file system now; null when that cannot be read. */
async function freeBytes(directory: string): Promise<number | null> {
  try {
    const fs = await statfs(directory);
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

/**
 * Runs a backup's (or an import's) steps. After a failure: the snapshot ended, the scratch database
 * dropped, the partial file and (unless catalogued) the stored one removed; and a write into the
 * directory that failed for lack of space says so, with the directory and the space, not the raw command.
 */
async function runCleaningUp(
  ctx: BackupContext,
  p: Paths,
  steps: Steps<BackupFacts>,
  facts: BackupFacts,
  exec: Exec,
): Promise<void> {
  try {
    await runSteps(steps, facts, exec);
  } catch (error) {
    const at = exec.progress.steps.findLast((s) => !s.ok)?.step;
    const freeAtFailure = await freeBytes(ctx.directory);
    await releaseSnapshot(facts).catch(() => undefined);
    await attemptSteps(scratchLeftBehind(ctx, facts), facts, exec, "");
    await rm(p.partial, { force: true });
    if (!facts.entry) await rm(p.stored, { force: true });
    if (error instanceof NoSpaceLeft || !WRITES_HERE.has(at ?? "") || !outOfSpace(error, freeAtFailure))
      throw error;
    const message = noSpaceMessage(ctx.directory, facts.needs, (await freeBytes(ctx.directory)) ?? 0);
    throw new NoSpaceLeft(message, { cause: error });
  }
}

const uploadHere = (ctx: BackupContext, entry: BackupEntry) =>
  uploadEntry(ctx, entry, path.join(ctx.directory, entry.file), localCatalog(ctx.directory));

/** Uploads a catalogued backup (again, e.g. after the store was down): a copy of a changed file would be no backup. */
export function uploadCatalogued(ctx: BackupContext, entry: BackupEntry): Promise<BackupEntry> {
  return ctx.progress.step(
    "upload",
    () => uploadHere(ctx, entry),
    (e) => e.offsite?.url,
  );
}

/** The `upload` command: a catalogued backup by its id. */
export async function uploadById(ctx: BackupContext, id: string): Promise<BackupEntry> {
  if (backupsOnServer(ctx.environment))
    return withHost(ctx, (host) => uploadByIdOnServer(ctx, host as Runner, id));
  return uploadCatalogued(ctx, findBackup(await readCatalog(ctx.directory), id));
}

async function copyIn(file: string, partial: string, progress: Progress, size: number | null): Promise<void> {
  await checkArchive(file);
  await progress.transfer(size, (moved) => copyCounted(file, partial, moved.add));
  await chmod(partial, 0o600);
}

/** Stored as it came: plain, whatever encryption the environment applies to its own backups. */
function importPaths(ctx: BackupContext, id: string): Paths {
  return { ...pathsFor(ctx, id), stored: path.join(ctx.directory, `${id}.dump`) };
}

/**
 * A dump made elsewhere joins the catalog only the way every backup does: it must restore into a scratch
 * database; the row counts it restores to become its record, which a restore then checks the target against.
 */
function importSteps(ctx: BackupContext, p: Paths, file: string, createdAt: Date): Steps<BackupFacts> {
  return [
    effect(
      "import",
      async (f: BackupFacts, x) => {
        // Known before the copy, so a copy that fills the directory can say what it needed.
        f.needs = await stat(file).then(
          (s) => s.size,
          () => null,
        );
        await copyIn(file, p.partial, x.progress, f.needs);
      },
      { note: `copy ${file} into ${ctx.directory}; it must be a pg_dump custom-format archive` },
    ),
    ...scratchCheck<BackupFacts>(
      ctx,
      { file: p.partial, scratch: p.scratch },
      () => null,
      (what) => new BackupRefused(what),
    ),
    step("contents", pgRestoreList(ctx.tools, p.partial), {
      ...here,
      keep: (r, f) => keepImportedSource(r.stdout, f),
      note: "the database it was dumped from, from its table of contents",
    }),
    recordStep(ctx, p, importedRecord(createdAt, file)),
  ];
}

/** What --dry-run prints for the import that `restore --file` begins with. */
export function planImportSteps(ctx: BackupContext, file: string): PlannedStep[] {
  if (backupsOnServer(ctx.environment)) return planImportOnServer(ctx, file);
  return planSteps(importSteps(ctx, importPaths(ctx, "<imported-id>"), file, new Date(0)), startingFacts());
}

export async function importBackup(ctx: BackupContext, file: string): Promise<BackupEntry> {
  if (backupsOnServer(ctx.environment))
    return withHost(ctx, (host) => importOnServer(ctx, host as Runner, file));
  const createdAt = (ctx.now ?? (() => new Date()))();
  const p = importPaths(ctx, newBackupId(ctx.environment.name, createdAt));
  const facts = startingFacts();
  await mkdir(ctx.directory, { recursive: true, mode: 0o700 });
  await runCleaningUp(ctx, p, importSteps(ctx, p, file, createdAt), facts, execFor(ctx, undefined));
  return facts.entry as BackupEntry;
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
