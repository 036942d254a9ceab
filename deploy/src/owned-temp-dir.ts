/**
 * Temporary directories the CLI owns while it runs (the SSH session's known_hosts, key copy and master
 * socket; the configuration bundle a deploy ships): named after the CLI's pid, removed on every way out
 * of the process, and, for the one way no code runs on (kill -9), reaped by the next run on this machine
 * once that pid is gone.
 */
import { readdirSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isRunning } from "./processes.js";

/** What to do before a directory goes (close the SSH master listening in it); synchronous, for exit. */
export type BeforeRemove = (dir: string) => void;

function remove(dir: string, before?: BeforeRemove): void {
  before?.(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** The `prefix` directories of runs whose process is gone: each `before`, then removed. */
export function reapAbandoned(prefix: string, before?: BeforeRemove, tmp = os.tmpdir()): string[] {
  const owner = new RegExp(`^${prefix}(\\d+)-`);
  const reaped: string[] = [];
  for (const name of readdirSync(tmp)) {
    const pid = Number(owner.exec(name)?.[1]);
    if (!pid || pid === process.pid || isRunning(pid)) continue;
    try {
      remove(path.join(tmp, name), before);
      reaped.push(name);
    } catch {
      // Another user's, or already gone: not ours to clean.
    }
  }
  return reaped;
}

export interface OwnedDir {
  path: string;
  /** `before`, then the directory removed; idempotent. */
  remove(): void;
}

export async function ownedTempDir(prefix: string, before?: BeforeRemove): Promise<OwnedDir> {
  reapAbandoned(prefix, before);
  const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}${process.pid}-`));
  let removed = false;
  const removeOnce = () => {
    if (removed) return;
    removed = true;
    process.off("exit", removeOnce);
    remove(dir, before);
  };
  // process.exit() and the end of the event loop both pass here; signals end in the CLI's handlers.
  process.on("exit", removeOnce);
  return { path: dir, remove: removeOnce };
}
