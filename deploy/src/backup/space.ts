/**
 * Whether the backup directory can hold a backup, and how a full one is named: pure decisions, apart from
 * the df and psql that measure (backup.ts runs those as the preflight).
 */
import type { ServerSpace } from "../commands/server-backup.js";

/** Space left in the directory after a failed write below which the failure is taken for a full disk. */
export const FULL_BELOW_BYTES = 1024 ** 2;

/**
 * What a backup of a database of `databaseBytes` needs free. A custom-format dump is compressed and holds
 * only the rows and the schema: no indexes, no free space inside pages, no dead rows, no system catalogs,
 * all of which pg_database_size counts. So the dump is rarely larger than the database, and the database's
 * size is the estimate (generous for small databases, whose catalogs alone are ~8 MB). When encrypted, the
 * plain dump and its encrypted copy lie side by side until the plain one is removed: twice that.
 */
export function estimateNeed(databaseBytes: number, encrypted: boolean): number {
  return databaseBytes * (encrypted ? 2 : 1);
}

const neededMb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1e6));
const freeMb = (bytes: number) => Math.floor(Math.max(0, bytes) / 1e6);

/** The one line an operator reads for a full backup directory; `needs` is left out when nothing estimated it. */
export function noSpaceMessage(directory: string, needs: number | null, has: number): string {
  const estimate = needs === null ? "" : `needs ~${neededMb(needs)} MB, `;
  return `no space left on device in ${directory} (${estimate}has ${freeMb(has)} MB)`;
}

/** The preflight's decision: a refusal when the directory has less free than the backup needs. */
export function spaceRefusal(directory: string, needs: number, has: number): string | undefined {
  return has < needs ? noSpaceMessage(directory, needs, has) : undefined;
}

/**
 * Whether a failure while writing into the backup directory was the disk filling up: the tool said so
 * (ENOSPC: "No space left on device", or Go's lower-case form from docker), or the directory is full
 * now. The second matters when the dump streams back through ssh or docker, which report a write that
 * failed on their side only as an exit code.
 */
export function outOfSpace(error: unknown, freeAfterFailure: number | null): boolean {
  const e = error as { code?: unknown; message?: unknown; stderr?: unknown } | null;
  if (e?.code === "ENOSPC") return true;
  const said = `${String(e?.message ?? "")}\n${String(e?.stderr ?? "")}`;
  if (/no space left on device/i.test(said)) return true;
  return freeAfterFailure !== null && freeAfterFailure < FULL_BELOW_BYTES;
}

/**
 * What a fresh throw-away cluster takes before any data: the template databases, the catalogs and a WAL
 * segment or two (about 40 MB from initdb), rounded up.
 */
export const THROWAWAY_CLUSTER_BYTES = 64 * 1024 ** 2;

/**
 * What the throw-away restore of a database of `databaseBytes` needs in Docker's data root. The restore
 * holds no dead rows and no free space inside pages, which the source's size counts, and writes no WAL for
 * its tables (wal_level minimal, one transaction): the source's size plus an empty cluster is the estimate.
 */
export function throwawayNeed(databaseBytes: number): number {
  return databaseBytes + THROWAWAY_CLUSTER_BYTES;
}

const ELSEWHERE = "free space there, or verify elsewhere (backup.where: cli, see docs/backups.md)";

/**
 * The preflight's decision for a backup made on the server: the dump needs the database's size in the
 * backup directory, its throw-away restore about as much again in Docker's data root; both at once when
 * they share a file system. A refusal names the directory that is short.
 */
export function serverSpaceRefusal(
  directory: string,
  databaseBytes: number,
  space: ServerSpace,
): string | undefined {
  const dump = estimateNeed(databaseBytes, false);
  const restore = throwawayNeed(databaseBytes);
  // An engine elsewhere keeps the throw-away's data there: only the dump is this disk's.
  if (!space.dockerRoot) return spaceRefusal(directory, dump, space.directory.free);
  if (space.directory.mount === space.dockerRoot.mount) {
    const needs = dump + restore;
    return space.directory.free < needs
      ? `${noSpaceMessage(directory, needs, space.directory.free)}: the dump and the throw-away restore that verifies it share this disk; ${ELSEWHERE}`
      : undefined;
  }
  if (space.directory.free < dump) return noSpaceMessage(directory, dump, space.directory.free);
  if (space.dockerRoot.free < restore)
    return `${noSpaceMessage(space.dockerRoot.path, restore, space.dockerRoot.free)}: Docker's data root, where the throw-away restore that verifies the dump goes; ${ELSEWHERE}`;
  return undefined;
}
