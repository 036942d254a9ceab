/**
 * One pass over a dump: its bytes go to the backup file and, at the same time, into pg_restore in the scratch
 * database, with their sha256 taken on the way. The dump is read once and the restore ends about when the
 * dump does, instead of after it, and the file is never read back for its checksum.
 *
 * What fails stops the rest: a restore that dies stops the dump, a dump that dies stops the restore (which
 * would otherwise take a truncated archive for the end of one), and a file that cannot be written stops
 * both. The error is the cause, not what the others then did: see `cause`.
 */
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { Command } from "../commands/argv.js";
import type { Runner, RunResult, Started } from "../runner.js";
import { Checksum, TeeFailed, tee } from "./tee.js";

export interface DumpAndRestore<T> {
  /** Writes the archive to stdout; its `stdoutFile` is the file the archive is kept in. */
  dump: Command;
  dumpOn: Runner;
  /** What the dump's own output says beyond its exit code (a container dump reports failure on stderr). */
  dumpReport: (result: RunResult) => T;
  /** Reads the archive on stdin (custom format, not in parallel: a stream is read in order). */
  restore: Command;
  restoreOn: Runner;
}

export interface Dumped<T> {
  report: T;
  bytes: number;
  sha256: string;
}

/** What went wrong in one pass; "stopped" marks a process this module ended because another part failed. */
export interface Failures {
  dump?: Error;
  restore?: Error;
  /** The restore stopped reading before the dump ended (its stdin closed). */
  restoreInput?: Error;
  /** The file, or the dump's stdout itself. */
  stream?: Error;
}

/** Which failure to report: the dump's own (a truncated archive then fails the restore too), the restore's, the file's. */
export function cause(failures: Failures): { side: "dump" | "restore" | "stream"; error: Error } | undefined {
  if (failures.dump) return { side: "dump", error: failures.dump };
  if (failures.restore) return { side: "restore", error: failures.restore };
  if (failures.stream) return { side: "stream", error: failures.stream };
  if (failures.restoreInput)
    return {
      side: "restore",
      error: new Error(`pg_restore stopped reading before the dump ended: ${failures.restoreInput.message}`),
    };
  return undefined;
}

export class DumpOrRestoreFailed extends Error {
  override name = "DumpOrRestoreFailed";
  constructor(
    readonly side: "dump" | "restore" | "stream",
    readonly error: Error,
  ) {
    super(error.message, { cause: error });
  }
}

export async function dumpAndRestore<T>(work: DumpAndRestore<T>): Promise<Dumped<T>> {
  const file = work.dump.stdoutFile;
  if (!file) throw new Error(`\`${work.dump.argv[0]}\` names no file for its stdout`);
  const dump = await work.dumpOn.start(work.dump);
  let restore: Started;
  try {
    restore = await work.restoreOn.start(work.restore);
  } catch (error) {
    dump.stop();
    await dump.done.catch(() => undefined);
    throw new DumpOrRestoreFailed("restore", error as Error);
  }

  const failures: Failures = {};
  const stopped = new Set<Started>();
  const stop = (process: Started) => {
    if (stopped.has(process)) return;
    stopped.add(process);
    process.stop();
  };
  const checksum = new Checksum();
  // 0600 from the first byte: a dump holds every row of the database.
  const kept = createWriteStream(file, { mode: 0o600 });

  let report: T | undefined;
  const dumped = dump.done
    .then((result) => {
      report = work.dumpReport(result);
    })
    .catch((error: Error) => {
      if (!stopped.has(dump)) failures.dump = error;
      stop(restore);
    });
  const restored = restore.done.catch((error: Error) => {
    if (!stopped.has(restore)) failures.restore = error;
    stop(dump);
  });
  const streamed = pipeline(dump.stdout, checksum, tee([kept, restore.stdin])).catch((error: Error) => {
    if (error instanceof TeeFailed && error.destination === 1) failures.restoreInput = error.error;
    else {
      failures.stream = error instanceof TeeFailed ? error.error : error;
      stop(restore);
    }
    stop(dump);
  });
  await Promise.all([dumped, restored, streamed]);

  const failed = cause(failures);
  if (failed) {
    kept.destroy();
    throw new DumpOrRestoreFailed(failed.side, failed.error);
  }
  return { report: report as T, bytes: checksum.bytes, sha256: checksum.sha256() };
}
