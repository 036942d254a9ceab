/**
 * The catalog of backups kept on the server: catalog.json in the host's backup directory, read and written
 * through the host's runner (write to a temporary name, then rename), changed under a lock directory beside
 * it so that a scheduled backup and a deploy's never lose each other's entry.
 */
import {
  CATALOG_LOCK_HELD,
  catalogPath,
  lockServerCatalog,
  readServerCatalog,
  serverLockPath,
  unlockServerCatalog,
  writeServerCatalog,
} from "../commands/server-backup.js";
import type { Runner } from "../runner.js";
import { type BackupEntry, type Catalog, catalogText, parseCatalog } from "./catalog.js";

async function readOn(runner: Runner, directory: string): Promise<BackupEntry[]> {
  const { stdout } = await runner.run(readServerCatalog(directory));
  // Nothing printed: no catalog yet.
  return stdout === "" ? [] : parseCatalog(stdout, `${catalogPath(directory)} on ${runner.where}`);
}

/** Bounded like the local catalog's lock: a lock left by a killed run is reported, not waited on forever. */
async function withServerLock<T>(
  runner: Runner,
  directory: string,
  work: () => Promise<T>,
  waitMs: number,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  while ((await runner.run(lockServerCatalog(directory))).exitCode === CATALOG_LOCK_HELD) {
    if (Date.now() > deadline)
      throw new Error(
        `the backup catalog on ${runner.where} stayed locked for ${waitMs / 1000} s; if no backup is running, remove ${serverLockPath(directory)} there`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    return await work();
  } finally {
    await runner.run(unlockServerCatalog(directory));
  }
}

export function serverCatalog(runner: Runner, directory: string, waitMs = 30_000): Catalog {
  return {
    file: `${catalogPath(directory)} on ${runner.where}`,
    read: () => readOn(runner, directory),
    update: (change) =>
      withServerLock(
        runner,
        directory,
        async () => {
          const next = change(await readOn(runner, directory));
          await runner.run(writeServerCatalog(directory, catalogText(next)));
          return next;
        },
        waitMs,
      ),
  };
}
