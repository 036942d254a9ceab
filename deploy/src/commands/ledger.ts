/**
 * The release ledger on the target host: one JSON object per line, only ever appended to. A line
 * shorter than PIPE_BUF written with O_APPEND (`>>`) lands whole even when two writers race.
 */
import path from "node:path";
import { z } from "zod";
import type { Command } from "./argv.js";

export const releaseRecordSchema = z.strictObject({
  release: z.string().min(1),
  env: z.string(),
  who: z.string(),
  at: z.iso.datetime(),
  image: z.string(),
  /** sha256:… of the image that ran; the only reference a rollback can trust. */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected an image digest sha256:<64 hex>"),
  result: z.enum(["succeeded", "failed", "rolled-back"]),
  durationMs: z.number().int().nonnegative().optional(),
  note: z.string().optional(),
});
export type ReleaseRecord = z.infer<typeof releaseRecordSchema>;

export const ledgerFile = (stateDirectory: string) => path.posix.join(stateDirectory, "releases.jsonl");

const APPEND = `mkdir -p -- "$(dirname -- "$1")" && cat >> "$1"`;

export function appendRelease(stateDirectory: string, record: ReleaseRecord): Command {
  const line = `${JSON.stringify(releaseRecordSchema.parse(record))}\n`;
  // Longer lines could interleave with a concurrent append; records are small, so this is a bug guard.
  if (Buffer.byteLength(line) > 4096) throw new Error("release record longer than 4096 bytes");
  return { argv: ["sh", "-c", APPEND, "shipyard-ledger", ledgerFile(stateDirectory)], stdin: line };
}

const TAIL = `if [ -f "$1" ]; then tail -n "$2" -- "$1"; fi`;

export function recentReleases(stateDirectory: string, count: number): Command {
  return { argv: ["sh", "-c", TAIL, "shipyard-ledger", ledgerFile(stateDirectory), String(count)] };
}

/** Newest last, as written; a line that is not a valid record is an error naming its number. */
export function parseLedger(stdout: string): ReleaseRecord[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, index) => {
      try {
        return releaseRecordSchema.parse(JSON.parse(line));
      } catch (error) {
        throw new Error(`release ledger line ${index + 1} of the shown tail is not a valid record: ${error}`);
      }
    });
}
