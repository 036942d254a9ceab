/**
 * The steps every backup ends with once it is catalogued, wherever it is made (backup.ts here, on-server.ts
 * on the host): the off-site copy, whose failure costs the copy and never the verified backup, and
 * retention. Each flow says only how it uploads and prunes, and where.
 */
import path from "node:path";
import type { Retention, UploadTarget } from "../config/environments.js";
import { type Exec, effect, type Step } from "../steps.js";
import type { BackupEntry } from "./catalog.js";
import type { BackupFacts } from "./facts.js";
import { uploadLocation } from "./offsite.js";

/** `stored`: the catalogued file (its basename names the object); `what`: what is sent, for the note. */
export function uploadStep(
  upload: UploadTarget,
  stored: { id: string; file: string },
  uploads: (facts: BackupFacts, x: Exec) => Promise<BackupEntry>,
  what = "",
): Step<BackupFacts> {
  const url = uploadLocation(upload, { id: stored.id, file: path.posix.basename(stored.file) }).url;
  return effect("upload", uploads, {
    keep: (updated, f) => {
      f.entry = updated;
      f.upload = { ok: true, url: updated.offsite?.url ?? "" };
    },
    tolerate: (f, error) => {
      f.upload = { ok: false, error: error.message };
    },
    detail: (updated) => updated.offsite?.url,
    note:
      `${what}to ${url}${upload.endpoint ? ` at ${upload.endpoint}` : ""}, ` +
      "then read back its size and sha256; a manifest <id>.json beside it",
  });
}

/** `note` puts the policy (keep the last …) in the words of where the catalog is. */
export function retentionStep(
  retention: Retention,
  prune: (x: Exec) => Promise<string[]>,
  note: (policy: string) => string = (policy) => policy,
): Step<BackupFacts> {
  const policy = `keep the last ${retention.last}, the newest of ${retention.daily} days and of ${retention.weekly} weeks`;
  return effect<BackupFacts, string[]>("retention", (_, x) => prune(x), {
    keep: (ids, f) => {
      f.removed = ids;
    },
    detail: (ids) => (ids.length ? `removed ${ids.join(", ")}` : "nothing to remove"),
    note: note(policy),
  });
}
