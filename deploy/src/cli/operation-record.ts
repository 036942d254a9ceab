/**
 * The one record an operation on an environment ends in (deploy, rollback, backup, restore, setup, lock
 * break), decided here from what the command returned or threw: what the audit log keeps and what a
 * notification says. Pure: record.ts writes it down and sends it.
 */
import type { AuditedOperation, OperationRecord } from "../commands/audit.js";
import { DeployFailed } from "../release/release.js";
import { Interrupted } from "../steps.js";
import type { Options } from "./args.js";
import type { Outcome } from "./command.js";
import { isMistake } from "./exit-codes.js";

/** The operation a command line performs, if it changes the environment (undefined: it only reads). */
export function operationOf(
  command: string,
  subcommand: string | undefined,
  options: Options,
): AuditedOperation | undefined {
  // A plan changes nothing.
  if (options["dry-run"]) return undefined;
  if (command === "lock") return subcommand === "break" ? "lock break" : undefined;
  const performed: readonly string[] = ["deploy", "rollback", "backup", "restore", "setup"];
  return performed.includes(command) ? (command as AuditedOperation) : undefined;
}

/** Operations a webhook hears about (success and failure); the others are only audited. */
export const NOTIFIED: readonly AuditedOperation[] = ["deploy", "rollback", "backup"];

export interface Ended {
  operation: AuditedOperation;
  env: string;
  who: string;
  started: Date;
  durationMs: number;
  options: Options;
  ended: { outcome: Outcome } | { error: unknown };
}

/** Long enough for any summary line the CLI prints, short enough that a record stays one atomic append. */
const SUMMARY_LIMIT = 500;

const oneLine = (text: string) => {
  const line = (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
  return line.length > SUMMARY_LIMIT ? `${line.slice(0, SUMMARY_LIMIT - 1)}…` : line;
};

/** undefined: a mistake in what was typed, found before anything was done; there was no operation. */
export function operationRecord(e: Ended): OperationRecord | undefined {
  const base = {
    operation: e.operation,
    env: e.env,
    who: e.who,
    at: e.started.toISOString(),
    durationMs: Math.max(0, Math.round(e.durationMs)),
  };
  if ("error" in e.ended) {
    const { error } = e.ended;
    if (isMistake(error)) return undefined;
    const interrupted = error instanceof Interrupted || (error instanceof DeployFailed && !!error.signal);
    return {
      ...base,
      result: interrupted ? "interrupted" : "failed",
      summary: oneLine((error as Error)?.message ?? String(error)),
      ...idsTyped(e.operation, e.options),
    };
  }
  const { outcome } = e.ended;
  return {
    ...base,
    result: outcome.problem ? "failed" : "succeeded",
    summary: oneLine(outcome.problem?.message ?? outcome.summary[0] ?? ""),
    ...idsTyped(e.operation, e.options),
    ...idsFound(e.operation, outcome.result),
  };
}

/** What the command line named: all that is known of an operation that failed. */
function idsTyped(
  operation: AuditedOperation,
  options: Options,
): Pick<OperationRecord, "release" | "backup"> {
  if (operation === "deploy" && options.release) return { release: options.release };
  if (operation === "rollback" && options.to) return { release: options.to };
  if (operation === "restore" && options.backup) return { backup: options.backup };
  return {};
}

const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
const field = (value: unknown, name: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;

/** What the command's result says: the release it brought, the backup it made or restored. */
function idsFound(operation: AuditedOperation, result: unknown): Pick<OperationRecord, "release" | "backup"> {
  const ids = {
    release: operation === "deploy" || operation === "rollback" ? text(field(result, "release")) : undefined,
    backup:
      operation === "backup"
        ? text(field(field(result, "backup"), "id"))
        : operation === "restore"
          ? text(field(field(result, "restored"), "id"))
          : text(field(result, "backup")),
  };
  return Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined));
}

/** The line a chat channel shows: where, what, how it ended, how long, who, and the summary. */
export function notificationText(record: OperationRecord): string {
  const mark = record.result === "succeeded" ? "✅" : record.result === "interrupted" ? "⚠️" : "❌";
  const ids = [record.release && `release ${record.release}`, record.backup && `backup ${record.backup}`]
    .filter(Boolean)
    .join(", ");
  return (
    `${mark} shipyard ${record.operation} on ${record.env} ${record.result} in ` +
    `${(record.durationMs / 1000).toFixed(1)} s (by ${record.who})${ids ? ` [${ids}]` : ""}: ${record.summary}`
  );
}
