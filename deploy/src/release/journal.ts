/**
 * What the release journal holds (commands/journal.ts keeps it on the host): the ledger record the release
 * would write, and what its steps had changed so far, i.e. exactly what `rollbackSteps` needs.
 */
import { z } from "zod";
import { type ReleaseRecord, releaseRecordSchema } from "../commands/ledger.js";
import type { ReleaseFacts } from "./release.js";

export type UndoFacts = Pick<
  ReleaseFacts,
  "config" | "switched" | "previousUpstream" | "fresh" | "migrated" | "nginx"
>;

const undoFactsSchema = z.object({
  config: z.object({ base: z.string(), snapshot: z.string(), added: z.array(z.string()) }).nullable(),
  switched: z.boolean(),
  previousUpstream: z.string(),
  fresh: z.object({ id: z.string(), name: z.string(), image: z.string(), state: z.string() }).nullable(),
  migrated: z.boolean(),
  // A journal written before releases recorded nginx's id has none: the undo then finds the running nginx.
  nginx: z.string().nullable().default(null),
});

const journalSchema = z.object({ record: releaseRecordSchema, left: undoFactsSchema });
export type InterruptedRelease = z.infer<typeof journalSchema>;

/** The journal's text; the same facts give the same text, so it is rewritten only when the undo changes. */
export function journalText(record: ReleaseRecord, f: UndoFacts): string {
  const { config, switched, previousUpstream, fresh, migrated, nginx } = f;
  const entry: InterruptedRelease = {
    record: { ...record, result: "rolled-back" },
    left: { config, switched, previousUpstream, fresh, migrated, nginx },
  };
  return `${JSON.stringify(entry)}\n`;
}

/**
 * A Swarm release's journal, in the same shape (status and the next release read one format): the
 * configuration it shipped, and `switched` once `docker stack deploy` took it and Swarm had not already
 * rolled it back. Swarm keeps its own state; the rest is the single server's and stays empty.
 */
export function swarmJournalText(
  record: ReleaseRecord,
  left: { config: UndoFacts["config"]; deployed: boolean },
): string {
  return journalText(record, {
    config: left.config,
    switched: left.deployed,
    previousUpstream: "",
    fresh: null,
    migrated: false,
    nginx: null,
  });
}

export function parseJournal(stdout: string): InterruptedRelease | null {
  const text = stdout.trim();
  if (!text) return null;
  try {
    return journalSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new Error(
      `the release journal on the host cannot be read (${(error as Error).message.split("\n")[0]}); inspect it and remove it by hand if no release is running`,
    );
  }
}
