/**
 * The check every dump passes before it counts, as steps: restore it into a fresh scratch database and
 * count every table there. A backup compares the counts with the source's at its snapshot, a restore with
 * what the catalog records, an import takes them as its record.
 */
import { createDatabase, dropDatabase, pgRestore } from "../commands/postgres.js";
import { effect, type Step, step } from "../steps.js";
import type { TableCount } from "./catalog.js";
import { type BackupContext, POSTGRES_QUERIES } from "./context.js";
import { fileSize } from "./files.js";
import { compareCounts } from "./table-counts.js";

/** What the check leaves behind and finds out. */
export interface ScratchFacts {
  /** A scratch database that may exist (its createdb started): the cleanup after a failure drops it. */
  scratchLeft: string | null;
  /** Every table of the restored dump and its exact row count. */
  restored: TableCount[];
}

const here = { on: "local" } as const;

const scratchServer = (ctx: BackupContext) => ctx.scratch ?? ctx.conn;

/**
 * `expected`: the counts the restore must reproduce, or null to take whatever it yields. `refuse` makes the
 * error for a dump that does not restore or does not match.
 */
export function scratchCheck<F extends ScratchFacts>(
  ctx: BackupContext,
  dump: { file: string; scratch: string },
  expected: (facts: F) => readonly TableCount[] | null,
  refuse: (what: string) => Error,
): Step<F>[] {
  const server = scratchServer(ctx);
  const queries = ctx.queries ?? POSTGRES_QUERIES;
  const restore = pgRestore(ctx.tools, server, dump.file, dump.scratch, "into-empty");
  return [
    step("clear scratch database", dropDatabase(ctx.tools, server, dump.scratch), {
      ...here,
      note: "a leftover of a killed run must not make the check pass",
    }),
    step("scratch database", createDatabase(ctx.tools, server, dump.scratch), {
      ...here,
      leaves: (f) => {
        f.scratchLeft = dump.scratch;
      },
      detail: () => dump.scratch,
    }),
    effect(
      "restore into scratch",
      async (_, x) => {
        try {
          // pg_restore reads the file itself: its progress is how far it has read it. A file that cannot
          // be read is pg_restore's to report.
          const size = await fileSize(dump.file).catch(() => null);
          return await x.progress.transfer(size, async (moved) => {
            const result = await x.local.run(restore, { position: { file: dump.file, at: moved.reached } });
            // Restored: it has read the archive through, whatever the last sample saw.
            if (size !== null) moved.reached(size);
            return result;
          });
        } catch (error) {
          throw refuse(`the dump does not restore: ${(error as Error).message}`);
        }
      },
      { shows: restore },
    ),
    effect(
      "verify row counts",
      async (f: F) => {
        const actual = await queries.countRows(server, dump.scratch);
        const want = expected(f);
        const problems = want ? compareCounts(want, actual) : [];
        if (problems.length > 0) throw refuse(`the restored dump differs: ${problems.join("; ")}`);
        return actual;
      },
      {
        keep: (actual, f) => {
          f.restored = actual;
        },
        detail: (actual) => `${actual.length} tables, ${actual.reduce((n, t) => n + t.rows, 0)} rows match`,
        note: `count rows in ${dump.scratch}; must equal the snapshot's`,
      },
    ),
    ...dropScratch<F>(ctx, dump.scratch),
  ];
}

/** Drops the scratch database; also what the cleanup runs after a failure left one behind. */
export function dropScratch<F extends ScratchFacts>(ctx: BackupContext, scratch: string): Step<F>[] {
  return [
    step("drop scratch database", dropDatabase(ctx.tools, scratchServer(ctx), scratch), {
      ...here,
      keep: (_, f) => {
        f.scratchLeft = null;
      },
    }),
  ];
}

/** The cleanup after a failure: the scratch database, when the check had begun one and not dropped it. */
export function scratchLeftBehind<F extends ScratchFacts>(ctx: BackupContext, facts: F): Step<F>[] {
  return facts.scratchLeft ? dropScratch<F>(ctx, facts.scratchLeft) : [];
}
