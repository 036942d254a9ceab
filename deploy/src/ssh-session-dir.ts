/**
 * The SSH runner's private directory (known_hosts, the key when it came as text, the master's socket):
 * named after the CLI's pid, removed with the master closed on every way out of the process, and, for
 * the one way no code runs on (kill -9), reaped by the next run on this machine once its pid is gone.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const PREFIX = "shipyard-ssh-";
const OWNER = new RegExp(`^${PREFIX}(\\d+)-`);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Closes the master listening in `dir` (if any) and removes `dir`; synchronous, so it can run at exit. */
function closeAndRemove(dir: string): void {
  spawnSync("ssh", ["-o", `ControlPath=${path.join(dir, "master.sock")}`, "-O", "exit", "shipyard"], {
    stdio: "ignore",
    timeout: 5_000,
  });
  rmSync(dir, { recursive: true, force: true });
}

/** The directories of runs whose process is gone (killed): their masters closed, their key copies removed. */
export function reapAbandonedSessionDirs(tmp = os.tmpdir()): string[] {
  const reaped: string[] = [];
  for (const name of readdirSync(tmp)) {
    const owner = OWNER.exec(name)?.[1];
    if (!owner || Number(owner) === process.pid || isRunning(Number(owner))) continue;
    try {
      closeAndRemove(path.join(tmp, name));
      reaped.push(name);
    } catch {
      // Another user's, or already gone: not ours to clean.
    }
  }
  return reaped;
}

export interface SessionDir {
  path: string;
  /** Closes the master and removes the directory (idempotent). */
  remove(): void;
}

export async function makeSessionDir(): Promise<SessionDir> {
  reapAbandonedSessionDirs();
  const dir = await mkdtemp(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.off("exit", remove);
    closeAndRemove(dir);
  };
  // process.exit() and the end of the event loop both pass here; signals end in the CLI's handlers.
  process.on("exit", remove);
  return { path: dir, remove };
}
