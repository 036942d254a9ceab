/**
 * The check a dump kept on the server passes before it counts, as steps run on the host: a throw-away
 * Postgres container from the image the stack's Postgres runs (same version, so the server's own pg_restore
 * reads the server's own pg_dump), no network, restores the dump and counts every table; then it is removed.
 * The same check as scratch-check.ts, without a second server: a backup compares the counts with the
 * source's at its snapshot, a restore with what the catalog records, an import takes them as its record.
 */
import { parseContainerCounts } from "../commands/postgres.js";
import {
  awaitThrowaway,
  parseImageId,
  postgresImage,
  removeThrowaway,
  restoreIntoThrowaway,
  startThrowaway,
  throwawayCounts,
} from "../commands/server-backup.js";
import type { Environment } from "../config/environments.js";
import { effect, later, type Step, type Steps, step } from "../steps.js";
import type { TableCount } from "./catalog.js";
import { postgresContainer } from "./context.js";
import { compareCounts } from "./table-counts.js";

/** What the check leaves behind and finds out. */
export interface ThrowawayFacts {
  /** The image id of the stack's running Postgres. */
  image: string | null;
  /** A throw-away container that may exist (its start began): the cleanup after a failure removes it. */
  throwawayLeft: string | null;
  /** Every table of the restored dump and its exact row count. */
  restored: TableCount[];
}

/** How long the throw-away waits to accept connections: initdb of an empty cluster takes seconds. */
export const READY_SECONDS = 120;

/**
 * The throw-away's own bound, for when nothing removes it (the CLI killed, the connection lost): its wait,
 * the restore and the count, each as long as the runner lets one command run, and a minute to spare.
 */
export const throwawaySeconds = (environment: Environment) =>
  READY_SECONDS + 2 * environment.timeouts.commandSeconds + 60;

const IMAGE_PLACEHOLDER = "<image id of the running postgres service>";

/**
 * `dump.file`: the dump on the host; `dump.name`: the throw-away container's (random) name. `expected`: the
 * counts the restore must reproduce, or null to take whatever it yields. `refuse` makes the error for a
 * dump that does not restore or does not match.
 */
export function throwawayCheck<F extends ThrowawayFacts>(
  environment: Environment,
  dump: { file: string; name: string },
  expected: (facts: F) => readonly TableCount[] | null,
  refuse: (what: string) => Error,
): Steps<F> {
  const target = postgresContainer(environment);
  const restore = restoreIntoThrowaway(dump.name, dump.file);
  return [
    step<F>("postgres image", postgresImage(target), {
      keep: (r, f) => {
        f.image = parseImageId(r.stdout);
      },
      detail: (r) => parseImageId(r.stdout).slice(0, 19),
      note: `the image the stack's ${target.service} container runs: the throw-away runs the same version`,
    }),
    later((f: F) => [
      step<F>(
        "throwaway postgres",
        startThrowaway(dump.name, f.image ?? IMAGE_PLACEHOLDER, throwawaySeconds(environment)),
        {
          leaves: (facts) => {
            facts.throwawayLeft = dump.name;
          },
          detail: () => dump.name,
          note: "no network; ends itself after its timeout, and --rm removes it with its data",
        },
      ),
      step<F>("throwaway ready", awaitThrowaway(dump.name, READY_SECONDS)),
      effect<F, unknown>(
        "restore into throwaway",
        async (_, x) => {
          try {
            return await x.runner.run(restore);
          } catch (error) {
            throw refuse(`the dump does not restore: ${(error as Error).message}`);
          }
        },
        { shows: restore, note: "the dump streamed from the host's file into pg_restore in the throw-away" },
      ),
      step<F>("verify row counts", throwawayCounts(dump.name), {
        keep: (r, facts) => {
          const actual = parseContainerCounts(r.stdout).tables;
          const want = expected(facts);
          const problems = want ? compareCounts(want, actual) : [];
          if (problems.length > 0) throw refuse(`the restored dump differs: ${problems.join("; ")}`);
          facts.restored = actual;
        },
        detail: (r) => {
          const actual = parseContainerCounts(r.stdout).tables;
          return `${actual.length} tables, ${actual.reduce((n, t) => n + t.rows, 0)} rows match`;
        },
        note: "count rows in the throw-away; must equal the snapshot's",
      }),
      ...removeThrowawayStep<F>(dump.name),
    ]),
  ];
}

function removeThrowawayStep<F extends ThrowawayFacts>(name: string): Step<F>[] {
  return [
    step<F>("remove throwaway", removeThrowaway(name), {
      keep: (_, f) => {
        f.throwawayLeft = null;
      },
    }),
  ];
}

/** The cleanup after a failure: the throw-away container, when the check had started one and not removed it. */
export function throwawayLeftBehind<F extends ThrowawayFacts>(facts: F): Step<F>[] {
  return facts.throwawayLeft ? removeThrowawayStep<F>(facts.throwawayLeft) : [];
}
