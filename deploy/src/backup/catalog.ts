/**
 * The backup catalog: a JSON manifest beside the dump files. Only backups whose restore was
 * verified are ever written to it, so everything it lists is good by construction.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "../mistakes.js";

export const tableCountSchema = z.strictObject({ table: z.string(), rows: z.number().int().nonnegative() });
export type TableCount = z.infer<typeof tableCountSchema>;

export const backupEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  env: z.string(),
  createdAt: z.iso.datetime(),
  /** File name inside the backup directory. */
  file: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  /** Of the stored file (the encrypted one when encrypted). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  verified: z.literal(true),
  verifiedAt: z.iso.datetime(),
  encrypted: z.boolean(),
  database: z.string(),
  /** What the restore check found: every table and its exact row count at the dump's snapshot. */
  tables: z.array(tableCountSchema),
  reason: z.string().optional(),
  /** Set once the off-site copy was uploaded and read back right. */
  offsite: z.strictObject({ url: z.string().startsWith("s3://"), uploadedAt: z.iso.datetime() }).optional(),
});
export type BackupEntry = z.infer<typeof backupEntrySchema>;

const catalogSchema = z.strictObject({ version: z.literal(1), backups: z.array(backupEntrySchema) });

export const catalogFile = (directory: string) => path.join(directory, "catalog.json");

/** The catalog's text as read from `source` (a path, here or on the host). */
export function parseCatalog(text: string, source: string): BackupEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON (${(error as Error).message}); restore it from your copy`);
  }
  const parsed = catalogSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${source} is not a valid backup catalog: ${parsed.error.message}`);
  }
  return parsed.data.backups;
}

/** What is written: oldest first, one version. */
export function catalogText(backups: readonly BackupEntry[]): string {
  const sorted = [...backups].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return `${JSON.stringify({ version: 1, backups: sorted }, null, 2)}\n`;
}

export async function readCatalog(directory: string): Promise<BackupEntry[]> {
  let text: string;
  try {
    text = await readFile(catalogFile(directory), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return parseCatalog(text, catalogFile(directory));
}

/** Write-then-rename, so a crash leaves the old catalog or the new one, never half of one. */
export async function writeCatalog(directory: string, backups: readonly BackupEntry[]): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temp = `${catalogFile(directory)}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, catalogText(backups), { mode: 0o600 });
    await rename(temp, catalogFile(directory));
  } catch (error) {
    // A write cut short (a full disk) leaves no half file beside the catalog.
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Serialises read-modify-write of the catalog between backups running at the same time on this
 * machine (mkdir is atomic). Bounded: a lock left by a killed run is reported, not waited on forever.
 */
export async function withCatalogLock<T>(
  directory: string,
  work: () => Promise<T>,
  waitMs = 30_000,
): Promise<T> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const lock = path.join(directory, "catalog.lock");
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Date.now() > deadline) {
        throw new Error(
          `the backup catalog stayed locked for ${waitMs / 1000} s; if no backup is running, remove ${lock}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(lock);
  }
}

/** Adds or removes entries under the catalog lock. */
export function updateCatalog(
  directory: string,
  change: (backups: BackupEntry[]) => BackupEntry[],
): Promise<BackupEntry[]> {
  return withCatalogLock(directory, async () => {
    const next = change(await readCatalog(directory));
    await writeCatalog(directory, next);
    return next;
  });
}

/**
 * Where a catalog is kept, here (localCatalog) or on the host (server-catalog.ts): read it, or change it
 * under its lock.
 */
export interface Catalog {
  /** The catalog file, for messages. */
  readonly file: string;
  read(): Promise<BackupEntry[]>;
  update(change: (backups: BackupEntry[]) => BackupEntry[]): Promise<BackupEntry[]>;
}

export function localCatalog(directory: string): Catalog {
  return {
    file: catalogFile(directory),
    read: () => readCatalog(directory),
    update: (change) => updateCatalog(directory, change),
  };
}

/** An id the catalog does not hold is the operator's mistake (a typo, another environment's): exit 2. */
export function findBackup(backups: readonly BackupEntry[], id: string): BackupEntry {
  const found = backups.find((b) => b.id === id);
  if (!found) {
    const known = backups.map((b) => b.id).slice(-10);
    throw new UsageError(
      `no verified backup "${id}" in the catalog` +
        (known.length ? `; the newest are: ${known.join(", ")}` : "; the catalog is empty"),
    );
  }
  return found;
}

export function newBackupId(env: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, "z")
    .replaceAll(/[-:]/g, "")
    .toLowerCase();
  return `${env}-${stamp}-${randomBytes(3).toString("hex")}`;
}
