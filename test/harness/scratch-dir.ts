/**
 * Temporary directories that name the process that made them, so a run that was killed outright
 * (no chance to clean up) has its leftovers removed by the next run.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const PREFIX = "shipyard-test-";

export async function makeScratchDir(label: string, parent = os.tmpdir()): Promise<string> {
  return mkdtemp(path.join(parent, `${PREFIX}${process.pid}-${label}-`));
}

export function ownerPid(dirName: string): number | null {
  const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(dirName);
  return match?.[1] ? Number(match[1]) : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function sweepStaleScratchDirs(parent = os.tmpdir()): Promise<void> {
  const entries = await readdir(parent);
  await Promise.all(
    entries.map(async (name) => {
      const pid = ownerPid(name);
      if (pid !== null && !isAlive(pid)) await rm(path.join(parent, name), { recursive: true, force: true });
    }),
  );
}
