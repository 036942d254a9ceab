/** The release ledger on the target host: one JSON object per release, appended (jsonl.ts). */
import path from "node:path";
import { z } from "zod";
import type { Command } from "./argv.js";
import { jsonLinesFile } from "./jsonl.js";

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

const LEDGER = jsonLinesFile(releaseRecordSchema, {
  label: "shipyard-ledger",
  record: "release record",
  lines: "release ledger",
});

export const appendRelease = (stateDirectory: string, record: ReleaseRecord): Command =>
  LEDGER.append(ledgerFile(stateDirectory), record);

export const recentReleases = (stateDirectory: string, count: number): Command =>
  LEDGER.tail(ledgerFile(stateDirectory), count);

/** Oldest first, as written; a line that is not a valid record is an error naming its number. */
export const parseLedger = (stdout: string): ReleaseRecord[] => LEDGER.parse(stdout);
