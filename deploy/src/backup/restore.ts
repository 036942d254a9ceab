/**
 * Restore a catalogued backup over the environment's database, as an operation of steps (steps.ts runs
 * it, or prints it for --dry-run): the file must still match its recorded sha256 and hold what its entry
 * records (database, tables, row counts: a scratch restore); prod-like environments need an explicit
 * confirmation; under the deploy lock a verified safety backup of the current data is taken first, and the
 * result is checked against the row counts recorded when the backup was verified. A failure after the
 * safety backup says how to put the data from before back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ageDecrypt } from "../commands/age.js";
import type { Command } from "../commands/argv.js";
import {
  containerCounts,
  containerRestore,
  dumpedDatabase,
  parseContainerCounts,
  pgRestore,
  pgRestoreList,
} from "../commands/postgres.js";
import { archiveList, fileFacts, parseFileFacts, withStdinFrom } from "../commands/server-backup.js";
import { UsageError } from "../mistakes.js";
import type { PlannedStep } from "../progress.js";
import type { Runner, RunResult } from "../runner.js";
import {
  attemptSteps,
  type Exec,
  effect,
  type Operation,
  planOperation,
  runOperation,
  type Steps,
  step,
} from "../steps.js";
import { type BackupContext, BackupRefused, backup, planImportSteps } from "./backup.js";
import { type BackupEntry, findBackup, localCatalog } from "./catalog.js";
import {
  backupsOnServer,
  dumpsInContainer,
  execFor,
  POSTGRES_QUERIES,
  pathsFor,
  postgresContainer,
} from "./context.js";
import { fileSize, sha256File } from "./files.js";
import { type ScratchFacts, scratchCheck, scratchLeftBehind } from "./scratch-check.js";
import { serverCatalog } from "./server-catalog.js";
import { compareCounts } from "./table-counts.js";
import { type ThrowawayFacts, throwawayCheck, throwawayLeftBehind } from "./throwaway-check.js";

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

/** A restore that failed once the safety backup was taken; its message says how to put that data back. */
export class RestoreFailed extends Error {
  override name = "RestoreFailed";
}

/** A restore not confirmed is refused before anything is done, as a mistake in the command line (exit 2). */
export function checkConfirmation(ctx: BackupContext, confirm: string | undefined): void {
  const name = ctx.environment.name;
  if (ctx.environment.requireConfirmation && confirm !== name) {
    throw new UsageError(
      `restoring replaces the data of "${name}"; confirm with --confirm=${name}` +
        (confirm ? ` (got --confirm=${confirm})` : ""),
    );
  }
}

/** What the steps of a restore find out and leave behind. */
export interface RestoreFacts extends ScratchFacts, ThrowawayFacts {
  /** The verified backup of the data before the restore. */
  safety: BackupEntry | null;
  /** Tables the backup does not contain; pg_restore --clean leaves them as they were. */
  untouched: string[];
}

const startingFacts = (): RestoreFacts => ({
  scratchLeft: null,
  image: null,
  throwawayLeft: null,
  restored: [],
  safety: null,
  untouched: [],
});

interface RestoreInput {
  entry: BackupEntry;
  /** The catalogued file. */
  stored: string;
  /** What pg_restore reads: the stored file, or its decrypted copy. */
  plain: string;
  /** age identity file; --dry-run prints the variable that names it. */
  identity: string | undefined;
  justVerified: boolean;
  who: string;
  /** The host the safety backup dumps on, for an environment dumped in its container. */
  host: Runner | undefined;
}

/**
 * Where the environment's backups are dumped, its restores are written: inside the container (from a file
 * on the host when the backup is kept there, else streamed from here), or by URL.
 */
function restoreCommand(ctx: BackupContext, file: string): Command {
  const target = postgresContainer(ctx.environment);
  if (backupsOnServer(ctx.environment)) return withStdinFrom(file, containerRestore(target, file).argv);
  return dumpsInContainer(ctx.environment)
    ? containerRestore(target, file)
    : pgRestore(ctx.tools, ctx.conn, file, ctx.conn.database, "replace");
}

/**
 * The restore, with its progress where its bytes can be seen from here: streamed from this machine into
 * the container, or read by pg_restore here from the file. A file kept on the server is read there.
 */
async function restoreWatched(ctx: BackupContext, plain: string, x: Exec): Promise<RunResult> {
  const command = restoreCommand(ctx, plain);
  if (backupsOnServer(ctx.environment)) return x.runner.run(command);
  const size = await fileSize(plain).catch(() => null);
  if (dumpsInContainer(ctx.environment))
    return x.progress.transfer(size, (moved) => x.runner.run(command, { streamed: moved.add }));
  return x.progress.transfer(size, async (moved) => {
    const result = await x.local.run(command, { position: { file: plain, at: moved.reached } });
    // Restored: pg_restore has read the archive through, whatever the last sample saw.
    if (size !== null) moved.reached(size);
    return result;
  });
}

function checksumMismatch(entry: BackupEntry, stored: string, actual: string): BackupRefused {
  return new BackupRefused(
    `backup ${entry.id} is corrupted: ${stored} has sha256 ${actual}, the catalog recorded ${entry.sha256}`,
  );
}

async function checksum(entry: BackupEntry, stored: string): Promise<void> {
  let actual: string;
  try {
    actual = await sha256File(stored);
  } catch (error) {
    throw new BackupRefused(`backup file ${stored} cannot be read: ${(error as Error).message}`);
  }
  if (actual !== entry.sha256) throw checksumMismatch(entry, stored, actual);
}

const here = { on: "local" } as const;

/** The restore: checks of the file, then under the lock the safety backup, the restore and its check. */
export function restoreOperation(ctx: BackupContext, input: RestoreInput): Operation<RestoreFacts> {
  const { entry, stored, plain } = input;
  const env = ctx.environment;
  const inContainer = dumpsInContainer(env);
  const onServer = backupsOnServer(env);
  // A checksum only proves the file is the one the catalog names; an edited catalog can name another dump.
  const refuse = (what: string) =>
    new BackupRefused(
      `backup ${entry.id} does not hold what the catalog records: ${what}; nothing was restored`,
    );
  const decrypt = ageDecrypt(input.identity ?? "$SHIPYARD_AGE_IDENTITY_FILE", stored, plain);
  const counts = containerCounts(postgresContainer(env));
  const queries = ctx.queries ?? POSTGRES_QUERIES;
  const putBack = (safety: BackupEntry) =>
    `shipyard restore --env=${env.name} --backup=${safety.id}${env.requireConfirmation ? ` --confirm=${env.name}` : ""}`;

  return {
    checks: onServer
      ? checksOnServer(ctx, input, refuse)
      : [
          effect("checksum", () => checksum(entry, stored), {
            note: `sha256 of ${stored} must be ${entry.sha256}`,
          }),
          ...(entry.encrypted
            ? [
                effect<RestoreFacts, unknown>(
                  "decrypt",
                  async (_, x) => {
                    if (!input.identity)
                      throw new BackupRefused(
                        `backup ${entry.id} is encrypted: set SHIPYARD_AGE_IDENTITY_FILE to the age identity file`,
                      );
                    return x.local.run(decrypt);
                  },
                  { shows: decrypt },
                ),
              ]
            : []),
          ...(input.justVerified
            ? []
            : [
                step<RestoreFacts>("contents", pgRestoreList(ctx.tools, plain), {
                  ...here,
                  keep: (r) => {
                    const database = dumpedDatabase(r.stdout);
                    if (database !== entry.database)
                      throw refuse(
                        `it is a dump of database "${database}", the catalog says "${entry.database}"`,
                      );
                  },
                  note: `the dump must be of database ${entry.database}, and restore below with every table at its recorded row count`,
                }),
                ...scratchCheck<RestoreFacts>(
                  ctx,
                  { file: plain, scratch: pathsFor(ctx, `check-${entry.id}`).scratch },
                  () => entry.tables,
                  refuse,
                ),
              ]),
        ],
    lock: { environment: env, who: input.who, purpose: `restore ${entry.id}` },
    reads: [],
    changes: [
      effect(
        "safety backup",
        () =>
          backup(
            { ...ctx, ...(input.host ? { host: input.host } : {}) },
            { reason: `safety backup before restoring ${entry.id}`, applyRetention: false },
          ),
        {
          keep: (taken, f: RestoreFacts) => {
            f.safety = taken.entry;
          },
          detail: (taken) => taken.entry.id,
          note: "a full verified backup of the current data (see `backup --dry-run`)",
        },
      ),
      // In the container, pg_restore runs on the host; by URL, here.
      effect("restore", (_, x) => restoreWatched(ctx, plain, x), { shows: restoreCommand(ctx, plain) }),
      effect(
        "verify row counts",
        async (_, x) => {
          const actual = inContainer
            ? parseContainerCounts((await x.runner.run(counts)).stdout).tables
            : await queries.countRows(ctx.conn, ctx.conn.database);
          const inBackup = new Set(entry.tables.map((t) => t.table));
          const problems = compareCounts(
            entry.tables,
            actual.filter((t) => inBackup.has(t.table)),
          );
          if (problems.length > 0)
            throw new Error(
              `restore finished but the data differs from backup ${entry.id}: ${problems.join("; ")}.`,
            );
          return actual.filter((t) => !inBackup.has(t.table)).map((t) => t.table);
        },
        {
          ...(inContainer ? { shows: counts } : {}),
          keep: (extra, f: RestoreFacts) => {
            f.untouched = extra;
          },
          detail: (extra) =>
            extra.length ? `tables not in the backup, left as they were: ${extra.join(", ")}` : undefined,
          note: "every table of the backup has exactly its recorded row count",
        },
      ),
    ],
    after: [],
    // pg_restore runs in one transaction, and the safety backup is a good backup: nothing to take back.
    undo: () => [],
    failed: async (cause, at, _undone, f) => {
      if (!f.safety) {
        cause.message = `the safety backup failed, so nothing was restored: ${cause.message}`;
        return cause;
      }
      const state =
        at === "restore"
          ? "pg_restore runs in one transaction, so the data should be as it was"
          : "the data was replaced";
      return new RestoreFailed(
        `restore of ${entry.id} failed at "${at ?? "restore"}": ${cause.message}\n` +
          `  ${state}; the data from before the restore is in backup ${f.safety.id}\n` +
          `  to put it back: ${putBack(f.safety)}`,
      );
    },
  };
}

/**
 * The checks of a backup kept on the server, all on the host: its checksum there, the database its table
 * of contents names, and a restore into a throw-away container that must reproduce its recorded counts.
 */
function checksOnServer(
  ctx: BackupContext,
  input: RestoreInput,
  refuse: (what: string) => BackupRefused,
): Steps<RestoreFacts> {
  const { entry, stored } = input;
  const checksum = step<RestoreFacts>("checksum", fileFacts(stored), {
    keep: (r) => {
      const { sha256 } = parseFileFacts(r.stdout);
      if (sha256 !== entry.sha256) throw checksumMismatch(entry, stored, sha256);
    },
    note: `sha256 of ${stored} on the host must be ${entry.sha256}`,
  });
  if (input.justVerified) return [checksum];
  return [
    checksum,
    step<RestoreFacts>("contents", archiveList(postgresContainer(ctx.environment), stored), {
      keep: (r) => {
        const database = dumpedDatabase(r.stdout);
        if (database !== entry.database)
          throw refuse(`it is a dump of database "${database}", the catalog says "${entry.database}"`);
      },
      note: `the dump must be of database ${entry.database}, and restore in a throw-away with every table at its recorded row count`,
    }),
    ...throwawayCheck<RestoreFacts>(
      ctx.environment,
      { file: stored, name: pathsFor(ctx, `check-${entry.id}`).throwaway },
      () => entry.tables,
      refuse,
    ),
  ];
}

/** The plan --dry-run prints; the lock's holder and the decrypted copy are placeholders for a run's. */
/** The catalogued file: here, or on the host. */
const storedFile = (ctx: BackupContext, entry: BackupEntry) =>
  backupsOnServer(ctx.environment)
    ? path.posix.join(ctx.directory, entry.file)
    : path.join(ctx.directory, entry.file);

export function planRestore(ctx: BackupContext, entry: BackupEntry, justVerified = false): PlannedStep[] {
  const stored = storedFile(ctx, entry);
  const op = restoreOperation(ctx, {
    entry,
    stored,
    plain: entry.encrypted ? "<temp>/backup.dump" : stored,
    identity: undefined,
    justVerified,
    who: "<you>",
    host: undefined,
  });
  return planOperation(op, startingFacts(), {
    holder: "<you>",
    purpose: `restore ${entry.id}`,
    since: "<now>",
    token: "<random>",
  });
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
  return [...planImportSteps(ctx, file), ...planRestore(ctx, placeholder, true)];
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
  const catalog = backupsOnServer(ctx.environment)
    ? serverCatalog(hostRunner, ctx.directory)
    : localCatalog(ctx.directory);
  const entry = findBackup(await catalog.read(), request.id);
  const stored = storedFile(ctx, entry);
  const work = await mkdtemp(path.join(os.tmpdir(), "shipyard-restore-"));
  try {
    const op = restoreOperation(ctx, {
      entry,
      stored,
      plain: entry.encrypted ? path.join(work, "backup.dump") : stored,
      identity: request.ageIdentityFile,
      justVerified: request.justVerified ?? false,
      who: request.who,
      // The restore's own host: a container dump needs no second connection.
      host: ctx.host ?? hostRunner,
    });
    const facts = startingFacts();
    const exec = execFor(ctx, hostRunner);
    try {
      await runOperation(op, facts, exec);
    } catch (error) {
      await attemptSteps([...scratchLeftBehind(ctx, facts), ...throwawayLeftBehind(facts)], facts, exec, "");
      throw error;
    }
    return { restored: entry, safetyBackup: facts.safety as BackupEntry, untouchedTables: facts.untouched };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
