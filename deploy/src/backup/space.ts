/**
 * Whether the backup directory can hold a backup, and how a full one is named: pure decisions, apart from
 * the df and psql that measure (backup.ts runs those as the preflight).
 */

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
