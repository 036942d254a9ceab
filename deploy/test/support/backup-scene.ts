/**
 * A backup or restore against FakeRunner: this machine's tools and the host each a FakeRunner that
 * answers as psql, df, pg_dump, pg_restore, age and compose exec would (writing the files they would
 * write into a real scratch directory; on the server, into FakeHost's), and stand-ins for the queries
 * made in process. Any command or query fails while the step `failAt` runs (its `nth` start: restore runs
 * some step names more than once).
 */
import { writeFileSync } from "node:fs";
import type { TableCount } from "../../src/backup/catalog.js";
import type { BackupContext, Queries } from "../../src/backup/context.js";
import type { Command } from "../../src/commands/argv.js";
import {
  COUNTS_MARKER,
  DUMP_EXIT_MARKER,
  parseDatabaseUrl,
  SIZE_MARKER,
} from "../../src/commands/postgres.js";
import type { Environment } from "../../src/config/environments.js";
import { Progress } from "../../src/progress.js";
import { FakeHost } from "./fake-host.js";
import { type Answer, FakeRunner } from "./fake-runner.js";

export const conn = parseDatabaseUrl("postgres://app:pw@db.internal:5432/shop", "DATABASE_URL");
export const scratchServer = parseDatabaseUrl("postgres://checker:pw@scratch.internal:6432/postgres", "S");
export const TABLES: TableCount[] = [
  { table: "public.orders", rows: 5 },
  { table: "public.products", rows: 3 },
];
export const SNAPSHOT_ID = "00000003-0000001B-1";
export const line = (c: Command) => c.argv.join(" ");

const hex = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("hex");
const countsLine = (tables: readonly TableCount[]) =>
  `${COUNTS_MARKER} ${hex({ database: "shop", tables })}\n`;

/** The value of `--name=value` in a command, or the argument after `-o`. */
const option = (c: Command, name: string) =>
  name.startsWith("--")
    ? c.argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1)
    : c.argv[c.argv.indexOf(name) + 1];

export interface SceneOptions {
  failAt?: string;
  nth?: number;
  /** Answers before the usual ones (undefined: the usual). */
  answers?: (c: Command) => Answer;
  databaseBytes?: number;
  freeBytes?: number;
  /** What the live database counts to after a restore (default: what the backup holds). */
  live?: TableCount[];
}

export function scene(environment: Environment, options: SceneOptions = {}) {
  const { failAt, nth = 1 } = options;
  const started = new Map<string, number>();
  let current = "";
  const stderr: string[] = [];
  const progress = new Progress((text) => {
    stderr.push(text);
    if (text.startsWith("→ ")) {
      current = text.slice(2);
      started.set(current, (started.get(current) ?? 0) + 1);
    }
  });
  const failing = () =>
    current === failAt && started.get(current) === nth ? new Error(`${failAt} broke`) : undefined;

  const server = new FakeHost(`${countsLine(TABLES)}${DUMP_EXIT_MARKER} 0\n`, countsLine(TABLES));
  const usual = (c: Command): Answer => {
    const onServer = server.answer(c);
    if (onServer !== undefined) return onServer;
    const [program] = c.argv;
    if (c.stdin?.includes(SIZE_MARKER))
      return { stdout: `${SIZE_MARKER} ${options.databaseBytes ?? 8_000_000}\n` };
    if (program === "df") return { stdout: `    Avail\n${options.freeBytes ?? 50_000_000_000}\n` };
    if (program === "pg_dump") writeFileSync(option(c, "--file") ?? "", "PGDMP by url");
    if (program === "age" && c.argv.includes("--encrypt"))
      writeFileSync(option(c, "-o") ?? "", "age-encryption.org/v1 …");
    if (program === "age" && c.argv.includes("--decrypt")) writeFileSync(option(c, "-o") ?? "", "PGDMP");
    if (program === "pg_restore" && c.argv.includes("--list"))
      return { stdout: ";\n; Archive created at 2026-11-23\n;     dbname: shop\n" };
    if (c.stdoutFile) {
      writeFileSync(c.stdoutFile, "PGDMP in container");
      return { stderr: `${countsLine(TABLES)}${DUMP_EXIT_MARKER} 0\n` };
    }
    if (c.stdin?.includes(COUNTS_MARKER)) return { stdout: countsLine(options.live ?? TABLES) };
    return undefined;
  };
  const answer = (c: Command) => failing() ?? options.answers?.(c) ?? usual(c);
  const local = new FakeRunner(answer, "local");
  const host = new FakeRunner(answer);

  const snapshots = { taken: 0, released: 0 };
  const queries: Queries = {
    holdSnapshot: async () => {
      const failure = failing();
      if (failure) throw failure;
      snapshots.taken++;
      return {
        id: SNAPSHOT_ID,
        counts: TABLES,
        release: async () => {
          snapshots.released++;
        },
      };
    },
    countRows: async (_, database) => {
      const failure = failing();
      if (failure) throw failure;
      return database === conn.database ? (options.live ?? TABLES) : TABLES;
    },
  };
  const ctx: BackupContext = {
    environment,
    conn,
    ...(environment.database.dumpFrom === "compose-service" && environment.backup.where === "cli"
      ? { scratch: scratchServer }
      : {}),
    tools: { binDir: null },
    runner: local,
    host,
    progress,
    directory: environment.backup.directory,
    queries,
  };
  return { ctx, local, host, progress, stderr, snapshots, server };
}

/** The steps that ran after the first one that failed, by name. */
export function stepsAfterFailure(progress: Progress): string[] {
  const first = progress.steps.findIndex((s) => !s.ok);
  return progress.steps.slice(first + 1).map((s) => s.step);
}
