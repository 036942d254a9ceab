/** The off-site copy of one catalogued backup, wherever the backup is kept: the file here, the catalog here or on the host. */

import type { BackupEntry, Catalog } from "./catalog.js";
import type { BackupContext } from "./context.js";
import { sha256File } from "./files.js";
import { uploadBackup } from "./offsite.js";

/**
 * Uploads `file` (the catalogued backup, or its copy fetched from the server) and records where it went;
 * the file must still have its catalogued checksum: a copy of a changed file would be no backup.
 */
export async function uploadEntry(
  ctx: BackupContext,
  entry: BackupEntry,
  file: string,
  catalog: Catalog,
): Promise<BackupEntry> {
  const target = ctx.environment.backup.upload;
  if (!target)
    throw new Error(
      `"${ctx.environment.name}" has no backup.upload in the environments file: nowhere to upload to`,
    );
  const actual = await sha256File(file).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file} (${error.code}): the catalogued file is gone`);
  });
  if (actual !== entry.sha256)
    throw new Error(
      `${file} has sha256 ${actual}, not the ${entry.sha256} it was verified with; not uploading`,
    );
  const offsite = await ctx.progress.transfer(entry.sizeBytes, (moved) =>
    uploadBackup(target, ctx.env ?? process.env, file, entry, ctx.now, moved.reached),
  );
  const updated: BackupEntry = { ...entry, offsite };
  await catalog.update((all) => all.map((b) => (b.id === entry.id ? updated : b)));
  return updated;
}
