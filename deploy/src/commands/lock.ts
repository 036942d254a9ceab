/**
 * The deploy lock on the target host: a directory renamed into place, which is atomic on one file
 * system, so exactly one of two racing deploys gets it, and it already holds who took it and when.
 */
import path from "node:path";
import { z } from "zod";
import type { Command } from "./argv.js";

export const HELD_EXIT_CODE = 3;

export const lockHolderSchema = z.strictObject({
  holder: z.string(),
  purpose: z.string(),
  since: z.iso.datetime(),
  /** Random per acquisition: release removes the lock only when the token still matches. */
  token: z.string().min(8),
  /** The CLI's process and machine: a lock whose process is gone from this machine was abandoned. */
  pid: z.number().int().positive().optional(),
  host: z.string().optional(),
});
export type LockHolder = z.infer<typeof lockHolderSchema>;

export const lockDirectory = (stateDirectory: string) => path.posix.join(stateDirectory, "deploy.lock");

// Built in a sibling temp directory, then `mv -T` (rename(2)): an existing lock directory is never
// empty, so the rename fails and the holder file we wrote is thrown away.
const ACQUIRE = `set -e
mkdir -p -- "$(dirname -- "$1")"
tmp=$(mktemp -d -- "$1.new.XXXXXX")
cat > "$tmp/holder.json"
if mv -T -- "$tmp" "$1" 2>/dev/null; then exit 0; fi
rm -rf -- "$tmp"
exit ${HELD_EXIT_CODE}`;

export function acquireLock(stateDirectory: string, holder: LockHolder): Command {
  return {
    argv: ["sh", "-c", ACQUIRE, "shipyard-lock", lockDirectory(stateDirectory)],
    stdin: `${JSON.stringify(holder)}\n`,
    okExitCodes: [HELD_EXIT_CODE],
  };
}

// Exit 0 with nothing printed means "not locked".
const READ = `if [ -d "$1" ]; then cat -- "$1/holder.json"; fi`;

export function readLock(stateDirectory: string): Command {
  return { argv: ["sh", "-c", READ, "shipyard-lock", lockDirectory(stateDirectory)] };
}

const RELEASE = `grep -qF -- "\\"token\\":\\"$2\\"" "$1/holder.json" 2>/dev/null || exit ${HELD_EXIT_CODE}
rm -rf -- "$1"`;

/** Removes the lock only if we still hold it (a lock broken and retaken by someone else stays theirs). */
export function releaseLock(stateDirectory: string, token: string): Command {
  return {
    argv: ["sh", "-c", RELEASE, "shipyard-lock", lockDirectory(stateDirectory), token],
    okExitCodes: [HELD_EXIT_CODE],
  };
}

/** For a lock left by a crashed deploy: an explicit operator decision, never automatic. */
export function breakLock(stateDirectory: string): Command {
  return { argv: ["rm", "-rf", "--", lockDirectory(stateDirectory)] };
}

export function parseLockHolder(stdout: string): LockHolder | null {
  const text = stdout.trim();
  if (!text) return null;
  return lockHolderSchema.parse(JSON.parse(text));
}

export function lockAgeMinutes(holder: LockHolder, now: Date): number {
  return (now.getTime() - Date.parse(holder.since)) / 60_000;
}

/**
 * A lock taken on this very machine by a process that is gone (kill -9, a crash): nobody can still be
 * working under it, so the next run may take it over. Elsewhere (a CI runner, a Dagger container) only
 * the operator knows, and breaking it stays their decision.
 */
export function abandonedHere(
  holder: LockHolder,
  hostname: string,
  isRunning: (pid: number) => boolean,
): boolean {
  return holder.host === hostname && holder.pid !== undefined && !isRunning(holder.pid);
}

export function describeHolder(holder: LockHolder, now: Date, staleAfterMinutes: number): string {
  const age = lockAgeMinutes(holder, now);
  const stale = age > staleAfterMinutes;
  const process = holder.pid && holder.host ? `, process ${holder.pid} on ${holder.host}` : "";
  return (
    `held by ${holder.holder} for ${holder.purpose} since ${holder.since} (${Math.floor(age)} min ago${process})` +
    (stale
      ? `; older than ${staleAfterMinutes} min, so probably left by a crashed run: if no deploy is running, ` +
        "break it with `shipyard lock break --env=…`"
      : "")
  );
}
