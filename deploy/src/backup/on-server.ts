/**
 * A verified backup made and kept on the server (backup.where: server), as its list of steps, all run on
 * the host: a preflight that the backup directory and Docker's data root can hold the dump and its check,
 * pg_dump in the stack's Postgres container into the backup directory at an exported snapshot, a restore
 * into a throw-away container of the same image whose every table must have the source's exact row count at
 * that snapshot (throwaway-check.ts), and only then the record in the catalog beside it. Then, if asked,
 * a copy fetched to this machine, the off-site upload, and retention. A failure on the way leaves the
 * catalog untouched, no file on the server and no throw-away container; a full disk is named as such.
 */
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { containerDatabaseSize, parseContainerDumpReport, parseDatabaseSize } from "../commands/postgres.js";
import {
  archiveList,
  fileFacts,
  moveFile,
  parseFileFacts,
  parseServerSpace,
  receiveFile,
  removeFiles,
  sendFile,
  serverDump,
  serverSpace,
} from "../commands/server-backup.js";
import type { Environment } from "../config/environments.js";
import type { PlannedStep } from "../progress.js";
import type { Runner } from "../runner.js";
import {
  attemptSteps,
  type Exec,
  effect,
  planSteps,
  runSteps,
  type Step,
  type Steps,
  step,
} from "../steps.js";
import { backupTimeSteps } from "./backup-time.js";
import { type BackupEntry, type Catalog, findBackup, newBackupId } from "./catalog.js";
import { retentionStep, uploadStep } from "./closing-steps.js";
import { type BackupContext, type Paths, pathsFor, postgresContainer } from "./context.js";
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
import { checkArchive, fileSize, sha256File } from "./files.js";
import { applyRetention } from "./retention.js";
import { serverCatalog } from "./server-catalog.js";
import {
  estimateNeed,
  noSpaceMessage,
  outOfSpace,
  serverSpaceRefusal,
  THROWAWAY_CLUSTER_BYTES,
} from "./space.js";
import { throwawayCheck, throwawayLeftBehind } from "./throwaway-check.js";
import { uploadEntry } from "./upload-entry.js";

/** The steps that write into the server's backup directory: a failure in one of them may be a full disk. */
const WRITES_ON_SERVER = new Set(["dump on server", "import", "record"]);

/** The catalog beside the backups on the host the steps run on. */
const catalogOn = (ctx: BackupContext, x: Exec): Catalog => serverCatalog(x.runner, ctx.directory);

/** What --dry-run shows where a run fetches into a temporary directory of its own. */
const TEMP = "<temp>";

/**
 * The steps of one backup into `p` on the server. `local`: where this machine gets a copy of the verified
 * file (--fetch-to, or for the upload); null when neither asks for one.
 */
function backupOnServerSteps(
  ctx: BackupContext,
  p: Paths,
  createdAt: Date,
  options: BackupOptions,
  local: string | null,
): Steps<BackupFacts> {
  const { upload, retention } = ctx.environment.backup;
  const target = postgresContainer(ctx.environment);
  const dump = serverDump(target, p.partial);
  return [
    ...preflightOnServer(ctx),
    effect(
      "dump on server",
      async (_, x: Exec) => parseContainerDumpReport((await x.runner.run(dump)).stderr),
      {
        shows: dump,
        leaves: (f: BackupFacts) => {
          f.leftOnServer = [p.partial];
        },
        keep: (report, f: BackupFacts) => {
          f.source = { database: report.database, counts: report.tables };
        },
        detail: (report) =>
          `${report.database}: ${report.tables.length} tables, ${rowsIn(report.tables)} rows`,
        note: `psql in the container: BEGIN REPEATABLE READ; pg_export_snapshot(); count rows of every table; pg_dump --snapshot into ${p.partial} on the host`,
      },
    ),
    ...throwawayCheck<BackupFacts>(
      ctx.environment,
      { file: p.partial, name: p.throwaway },
      (f) => sourceOf(f).counts,
      (what) => new BackupRefused(what),
    ),
    recordOnServer(ctx, p, (f) => ({
      createdAt,
      encrypted: false,
      database: sourceOf(f).database,
      tables: sourceOf(f).counts,
      ...(options.reason ? { reason: options.reason } : {}),
    })),
    ...backupTimeSteps<BackupFacts>(ctx.environment),
    ...(local ? [fetchStep(p, local)] : []),
    // Off-site after the record: a store that is down costs the copy, never the verified backup.
    ...(upload
      ? [
          uploadStep(
            upload,
            { id: p.id, file: p.stored },
            (f, x) => uploadEntry(ctx, f.entry as BackupEntry, f.fetched ?? "", catalogOn(ctx, x)),
            "the fetched copy, ",
          ),
        ]
      : []),
    ...(options.applyRetention === false
      ? []
      : [
          retentionStep(
            retention,
            (x) => pruneOnServer(x.runner, ctx.directory, retention),
            (policy) => `in the catalog on the host: ${policy}; then rm their files there`,
          ),
        ]),
  ];
}

/**
 * Before anything is written: the database's size, then room on the host for the dump in the backup
 * directory and for its throw-away restore in Docker's data root.
 */
function preflightOnServer(ctx: BackupContext): Steps<BackupFacts> {
  return [
    step("preflight: database size", containerDatabaseSize(postgresContainer(ctx.environment)), {
      keep: (r, f) => {
        f.databaseBytes = parseDatabaseSize(r.stdout);
        f.needs = estimateNeed(f.databaseBytes, false);
      },
      detail: (r) => describeSize(parseDatabaseSize(r.stdout)),
      note: "pg_database_size, through psql in the container",
    }),
    step("preflight: free space", serverSpace(ctx.directory), {
      keep: (r, f) => {
        const refusal = serverSpaceRefusal(ctx.directory, f.databaseBytes ?? 0, parseServerSpace(r.stdout));
        if (refusal) throw new NoSpaceLeft(refusal);
      },
      detail: (r) => {
        const space = parseServerSpace(r.stdout);
        const root = space.dockerRoot
          ? `${describeSize(space.dockerRoot.free)} in Docker's data root ${space.dockerRoot.path}`
          : "Docker's data root is not on this host (not checked)";
        return `${describeSize(space.directory.free)} free in ${ctx.directory}, ${root}`;
      },
      note:
        "df of the backup directory and of Docker's data root: the dump needs the database's size, its " +
        `throw-away restore as much again and ${THROWAWAY_CLUSTER_BYTES / 1024 ** 2} MB (both at once on one disk)`,
    }),
  ];
}

type Recorded = Pick<BackupEntry, "encrypted" | "database" | "tables" | "reason"> & { createdAt: Date };

/** Size and sha256 on the host, the move into place, the entry in the catalog there: only good backups are listed. */
function recordOnServer(ctx: BackupContext, p: Paths, recorded: (facts: BackupFacts) => Recorded) {
  const now = ctx.now ?? (() => new Date());
  const facts = fileFacts(p.partial);
  return effect(
    "record",
    async (f: BackupFacts, x: Exec) => {
      const { createdAt, ...rest } = recorded(f);
      const { sizeBytes, sha256 } = parseFileFacts((await x.runner.run(facts)).stdout);
      await x.runner.run(moveFile(p.partial, p.stored));
      const entry: BackupEntry = {
        id: p.id,
        env: ctx.environment.name,
        createdAt: createdAt.toISOString(),
        file: path.posix.basename(p.stored),
        sizeBytes,
        sha256,
        verified: true,
        verifiedAt: now().toISOString(),
        ...rest,
      };
      await catalogOn(ctx, x).update((backups) => [...backups, entry]);
      return entry;
    },
    {
      shows: facts,
      leaves: (f) => {
        f.leftOnServer = [p.partial, p.stored];
      },
      keep: (entry, f) => {
        f.entry = entry;
        f.leftOnServer = [];
      },
      detail: (e) => `${e.id} sha256:${e.sha256.slice(0, 12)}…`,
      note: `size and sha256sum on the host, mv to ${p.stored}, add to ${path.posix.join(ctx.directory, "catalog.json")} there`,
    },
  );
}

/** The verified file copied from the host to this machine; it must read back with its catalogued checksum. */
function fetchStep(p: Paths, local: string): Step<BackupFacts> {
  const send = sendFile(p.stored, local);
  return effect(
    "fetch",
    async (f: BackupFacts, x: Exec) => {
      const entry = f.entry as BackupEntry;
      try {
        await mkdir(path.dirname(local), { recursive: true });
        await x.progress.transfer(entry.sizeBytes, (moved) => x.runner.run(send, { streamed: moved.add }));
        await chmod(local, 0o600);
        const actual = await sha256File(local);
        if (actual !== entry.sha256)
          throw new Error(`the copy has sha256 ${actual}, not the catalogued ${entry.sha256}`);
      } catch (error) {
        await rm(local, { force: true });
        throw new Error(
          `backup ${entry.id} is verified and kept on the server at ${p.stored}, but fetching it failed: ${(error as Error).message}`,
        );
      }
      return local;
    },
    {
      shows: send,
      keep: (fetched, f) => {
        f.fetched = fetched;
      },
      detail: (fetched) => `to ${fetched}`,
      note: "streamed from the host to this machine; its sha256 must be the catalogued one",
    },
  );
}

/** Catalog first, files after: a crash in between leaves an orphan file, never a listed backup without its file. */
export async function pruneOnServer(
  host: Runner,
  directory: string,
  retention: Environment["backup"]["retention"],
): Promise<string[]> {
  let remove: BackupEntry[] = [];
  await serverCatalog(host, directory).update((all) => {
    const decision = applyRetention(all, retention);
    remove = decision.remove;
    return decision.keep;
  });
  if (remove.length > 0) await host.run(removeFiles(remove.map((b) => path.posix.join(directory, b.file))));
  return remove.map((b) => b.id);
}

/** The cleanup after a failure: the throw-away container, and the files written on the server, if any. */
function leftBehind(facts: BackupFacts): Steps<BackupFacts> {
  return [
    ...throwawayLeftBehind(facts),
    ...(facts.leftOnServer.length > 0
      ? [
          step<BackupFacts>("remove partial dump", removeFiles(facts.leftOnServer), {
            keep: (_, f) => {
              f.leftOnServer = [];
            },
          }),
        ]
      : []),
  ];
}

/** Bytes free in the backup directory on the host now; null when that cannot be read. */
async function freeOnServer(host: Runner, directory: string): Promise<number | null> {
  try {
    return parseServerSpace((await host.run(serverSpace(directory))).stdout).directory.free;
  } catch {
    return null;
  }
}

/**
 * Runs the steps of a backup (or an import) on the server. After a failure: the throw-away container
 * removed, the partial file and (unless catalogued) the stored one removed; and a write on the server
 * that failed for lack of space says so, with the directory and the space, not the raw command.
 */
async function runOnServerCleaningUp(
  ctx: BackupContext,
  steps: Steps<BackupFacts>,
  facts: BackupFacts,
  exec: Exec,
): Promise<void> {
  try {
    await runSteps(steps, facts, exec);
  } catch (error) {
    const at = exec.progress.steps.findLast((s) => !s.ok)?.step;
    // A refusal (a file that is no dump, a full disk already named) is no write that failed.
    const writing = WRITES_ON_SERVER.has(at ?? "") && !(error instanceof BackupRefused);
    const freeAtFailure = writing ? await freeOnServer(exec.runner, ctx.directory) : null;
    await attemptSteps(leftBehind(facts), facts, exec, "");
    if (!writing || !outOfSpace(error, freeAtFailure)) throw error;
    const message = noSpaceMessage(ctx.directory, facts.needs, freeAtFailure ?? 0);
    throw new NoSpaceLeft(message, { cause: error });
  }
}

const execOn = (ctx: BackupContext, host: Runner): Exec => ({
  runner: host,
  local: ctx.runner,
  progress: ctx.progress,
});

/** Where this machine gets its copy: --fetch-to, else for the upload a temporary file. */
function localCopy(ctx: BackupContext, options: BackupOptions, id: string, temp: string): string | null {
  if (options.fetchTo) return path.resolve(options.fetchTo);
  return ctx.environment.backup.upload ? path.join(temp, `${id}.dump`) : null;
}

/** The plan --dry-run prints: the steps the run takes, with placeholders for what only the run finds out. */
export function planBackupOnServer(
  ctx: BackupContext,
  id: string,
  options: BackupOptions = {},
): PlannedStep[] {
  const p = pathsFor(ctx, id);
  return planSteps(
    backupOnServerSteps(ctx, p, new Date(0), options, localCopy(ctx, options, id, TEMP)),
    startingFacts(),
  );
}

export async function backupOnServer(
  ctx: BackupContext,
  host: Runner,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const createdAt = (ctx.now ?? (() => new Date()))();
  const p = pathsFor(ctx, newBackupId(ctx.environment.name, createdAt));
  const facts = startingFacts();
  const temp = await mkdtemp(path.join(os.tmpdir(), "shipyard-backup-"));
  try {
    const local = localCopy(ctx, options, p.id, temp);
    await runOnServerCleaningUp(
      ctx,
      backupOnServerSteps(ctx, p, createdAt, options, local),
      facts,
      execOn(ctx, host),
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  const entry = facts.entry as BackupEntry;
  return {
    entry,
    removed: facts.removed,
    ...(facts.upload ? { upload: facts.upload } : {}),
    ...(options.fetchTo && facts.fetched ? { fetchedTo: facts.fetched } : {}),
  };
}

/**
 * A dump made elsewhere joins the server's catalog only the way every backup does: sent to the host, it must
 * restore in a throw-away container; the row counts it restores to become its record.
 */
function importOnServerSteps(
  ctx: BackupContext,
  p: Paths,
  file: string,
  createdAt: Date,
): Steps<BackupFacts> {
  const receive = { ...receiveFile(p.partial), stdinFile: file };
  return [
    effect(
      "import",
      async (f: BackupFacts, x: Exec) => {
        // Refused here, before anything reaches the server.
        await checkArchive(file);
        f.leftOnServer = [p.partial];
        const size = await fileSize(file);
        await x.progress.transfer(size, (moved) => x.runner.run(receive, { streamed: moved.add }));
      },
      {
        shows: receive,
        note: `send ${file} to ${p.partial} on the host; it must be a pg_dump custom-format archive`,
      },
    ),
    ...throwawayCheck<BackupFacts>(
      ctx.environment,
      { file: p.partial, name: p.throwaway },
      () => null,
      (what) => new BackupRefused(what),
    ),
    step("contents", archiveList(postgresContainer(ctx.environment), p.partial), {
      keep: (r, f) => keepImportedSource(r.stdout, f),
      note: "the database it was dumped from, from its table of contents (the stack's pg_restore --list)",
    }),
    recordOnServer(ctx, p, importedRecord(createdAt, file)),
  ];
}

export function planImportOnServer(ctx: BackupContext, file: string): PlannedStep[] {
  return planSteps(
    importOnServerSteps(ctx, pathsFor(ctx, "<imported-id>"), file, new Date(0)),
    startingFacts(),
  );
}

export async function importOnServer(ctx: BackupContext, host: Runner, file: string): Promise<BackupEntry> {
  const createdAt = (ctx.now ?? (() => new Date()))();
  // Stored as it came: plain (backups kept on the server are never encrypted there).
  const p = pathsFor(ctx, newBackupId(ctx.environment.name, createdAt));
  const facts = startingFacts();
  await runOnServerCleaningUp(ctx, importOnServerSteps(ctx, p, file, createdAt), facts, execOn(ctx, host));
  return facts.entry as BackupEntry;
}

/** The `upload` command for a backup kept on the server: fetched here, uploaded, recorded in the server's catalog. */
export async function uploadByIdOnServer(ctx: BackupContext, host: Runner, id: string): Promise<BackupEntry> {
  const catalog = serverCatalog(host, ctx.directory);
  const entry = findBackup(await catalog.read(), id);
  const temp = await mkdtemp(path.join(os.tmpdir(), "shipyard-upload-"));
  try {
    const p = { ...pathsFor(ctx, entry.id), stored: path.posix.join(ctx.directory, entry.file) };
    const facts: BackupFacts = { ...startingFacts(), entry };
    const exec = execOn(ctx, host);
    await runSteps([fetchStep(p, path.join(temp, entry.file))], facts, exec);
    return await ctx.progress.step(
      "upload",
      () => uploadEntry(ctx, entry, facts.fetched ?? "", catalog),
      (e) => e.offsite?.url,
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
