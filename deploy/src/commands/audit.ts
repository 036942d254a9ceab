/**
 * The audit log on the target host: one JSON object per operation the CLI performed on the environment
 * (deploy, rollback, backup, restore, setup, lock break), only ever appended to, beside the release
 * ledger and by the same mechanism (a line shorter than PIPE_BUF appended with O_APPEND lands whole).
 */
import path from "node:path";
import { z } from "zod";
import type { Command } from "./argv.js";

export const AUDITED_OPERATIONS = ["deploy", "rollback", "backup", "restore", "setup", "lock break"] as const;
export type AuditedOperation = (typeof AUDITED_OPERATIONS)[number];

export const operationRecordSchema = z.strictObject({
  operation: z.enum(AUDITED_OPERATIONS),
  env: z.string(),
  who: z.string(),
  /** When the operation started. */
  at: z.iso.datetime(),
  durationMs: z.number().int().nonnegative(),
  result: z.enum(["succeeded", "failed", "interrupted"]),
  /** One line: the first line of the summary, or of the error. */
  summary: z.string(),
  release: z.string().optional(),
  backup: z.string().optional(),
});
export type OperationRecord = z.infer<typeof operationRecordSchema>;

export const auditFile = (stateDirectory: string) => path.posix.join(stateDirectory, "audit.jsonl");

const APPEND = `mkdir -p -- "$(dirname -- "$1")" && cat >> "$1"`;

export function appendAudit(stateDirectory: string, record: OperationRecord): Command {
  const line = `${JSON.stringify(operationRecordSchema.parse(record))}\n`;
  // Longer lines could interleave with a concurrent append; the summary is cut short, so this is a bug guard.
  if (Buffer.byteLength(line) > 4096) throw new Error("audit record longer than 4096 bytes");
  return { argv: ["sh", "-c", APPEND, "shipyard-audit", auditFile(stateDirectory)], stdin: line };
}

const TAIL = `if [ -f "$1" ]; then tail -n "$2" -- "$1"; fi`;

export function recentAudit(stateDirectory: string, count: number): Command {
  return { argv: ["sh", "-c", TAIL, "shipyard-audit", auditFile(stateDirectory), String(count)] };
}

/** Oldest first, as written; a line that is not a valid record is an error naming its number. */
export function parseAudit(stdout: string): OperationRecord[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, index) => {
      try {
        return operationRecordSchema.parse(JSON.parse(line));
      } catch (error) {
        throw new Error(`audit log line ${index + 1} of the shown tail is not a valid record: ${error}`);
      }
    });
}
