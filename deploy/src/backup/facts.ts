/**
 * What every backup shares wherever it is made (backup.ts on this machine, on-server.ts on the host): its
 * errors, the facts its steps find out and leave behind, its options and its result.
 */
import path from "node:path";
import { dumpedDatabase } from "../commands/postgres.js";
import type { BackupEntry, TableCount } from "./catalog.js";
import type { ScratchFacts } from "./scratch-check.js";
import type { HeldSnapshot } from "./table-counts.js";
import type { ThrowawayFacts } from "./throwaway-check.js";

export class BackupRefused extends Error {
  override name = "BackupRefused";
}

/** The backup directory cannot hold the backup: refused by the preflight, or found full by a write. */
export class NoSpaceLeft extends BackupRefused {
  override name = "NoSpaceLeft";
}

export interface DumpedSource {
  database: string;
  /** The source's exact row counts at the moment the dump describes. */
  counts: TableCount[];
}

/** How the off-site copy went; a failed upload leaves the backup verified and kept here. */
export type UploadOutcome = { ok: true; url: string } | { ok: false; error: string };

/** What the steps of a backup (or an import) find out and leave behind, in the order they do. */
export interface BackupFacts extends ScratchFacts, ThrowawayFacts {
  /** The source's pg_database_size, measured by the preflight. */
  databaseBytes: number | null;
  /** What the backup needs free in the directory (estimateNeed), for the preflight and a full disk's message. */
  needs: number | null;
  /** By URL: the exported snapshot pg_dump dumps, held open until the dump is done. */
  snapshot: HeldSnapshot | null;
  source: DumpedSource | null;
  /** On the server: files a step may have written there, removed after a failure. */
  leftOnServer: string[];
  /** Set once catalogued: from then on the file is a good backup whatever fails after. */
  entry: BackupEntry | null;
  /** The catalogued file, copied to this machine (--fetch-to, or for the upload). */
  fetched: string | null;
  upload: UploadOutcome | null;
  removed: string[];
}

export function startingFacts(): BackupFacts {
  return {
    databaseBytes: null,
    needs: null,
    snapshot: null,
    source: null,
    scratchLeft: null,
    image: null,
    throwawayLeft: null,
    leftOnServer: [],
    restored: [],
    entry: null,
    fetched: null,
    upload: null,
    removed: [],
  };
}

export interface BackupResult {
  entry: BackupEntry;
  removed: string[];
  /** Only when the environment has backup.upload. */
  upload?: UploadOutcome;
  /** Only with BackupOptions.fetchTo: the local copy of the verified file. */
  fetchedTo?: string;
}

export interface BackupOptions {
  reason?: string;
  /** Off for the safety backup a restore takes: pruning then could delete the very backup being restored. */
  applyRetention?: boolean;
  /** A path on this machine to copy the verified file to (for backups kept on the server, `dagger call backup`). */
  fetchTo?: string;
}

export const describeSize = (size: number) => `${(size / 1e6).toFixed(2)} MB`;
export const rowsIn = (counts: readonly TableCount[]) => counts.reduce((n, t) => n + t.rows, 0);

export function sourceOf(facts: BackupFacts): DumpedSource {
  if (!facts.source) throw new Error("no dump was made before its check");
  return facts.source;
}

/** An imported file's source: the database its table of contents names, and the counts its check found. */
export function keepImportedSource(tableOfContents: string, facts: BackupFacts): void {
  facts.source = { database: dumpedDatabase(tableOfContents), counts: facts.restored };
}

/** What the catalog records of an imported file, wherever its check ran. */
export const importedRecord = (createdAt: Date, file: string) => (facts: BackupFacts) => ({
  createdAt,
  encrypted: false,
  database: sourceOf(facts).database,
  tables: sourceOf(facts).counts,
  reason: `imported from ${path.basename(file)}`,
});
