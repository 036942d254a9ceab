/**
 * The audit log on the target host: one JSON object per operation the CLI performed on the environment
 * (deploy, rollback, backup, restore, setup, lock break), appended beside the release ledger
 * by the same mechanism (jsonl.ts).
 */
import path from "node:path";
import { z } from "zod";
import type { Command } from "./argv.js";
import { jsonLinesFile } from "./jsonl.js";

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

const AUDIT_LOG = jsonLinesFile(operationRecordSchema, {
  label: "shipyard-audit",
  record: "audit record",
  lines: "audit log",
});

export const appendAudit = (stateDirectory: string, record: OperationRecord): Command =>
  AUDIT_LOG.append(auditFile(stateDirectory), record);

export const recentAudit = (stateDirectory: string, count: number): Command =>
  AUDIT_LOG.tail(auditFile(stateDirectory), count);

/** Oldest first, as written; a line that is not a valid record is an error naming its number. */
export const parseAudit = (stdout: string): OperationRecord[] => AUDIT_LOG.parse(stdout);
