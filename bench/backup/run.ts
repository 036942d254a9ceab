/**
 * Our verified backup against the plain one-liner `pg_dump | gzip > file`, of the same database, in the same
 * run: the sides alternate over rounds (bench/lib/rounds.ts), each after the data load. The baseline is the
 * real shell pipeline (`sh -c`), nothing passes through Node. The verified backup does more (snapshot counts,
 * a restore into a scratch database beside the dump, row-count check, checksum, catalog): the ratio is what
 * that proof costs next to the usual one-liner.
 *
 *   npx tsx bench/backup/run.ts [--mb 100] [--rounds 3]
 *   npx tsx bench/backup/run.ts --mb 1024 --rounds 3      # the 1 GB figure issue 14 asks for
 *
 * Starts its own Postgres (the test harness) on 127.0.0.1 and removes it afterwards.
 */
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import pg from "pg";
import { backup } from "../../deploy/src/backup/backup.js";
import { parseDatabaseUrl, pgEnv } from "../../deploy/src/commands/postgres.js";
import type { Environment } from "../../deploy/src/config/environments.js";
import { Progress, type StepRecord } from "../../deploy/src/progress.js";
import { localRunner } from "../../deploy/src/runner.js";
import { startPostgres } from "../../test/harness/ephemeral-postgres.js";
import { makeScratchDir } from "../../test/harness/scratch-dir.js";
import { choosePostgresBinDir } from "../../test/harness/server-plans.js";
import { alternateRounds, figureTable, machineLine, positiveInteger, ratioOfMedians } from "../lib/rounds.js";

const { values } = parseArgs({
  options: { mb: { type: "string", default: "100" }, rounds: { type: "string", default: "3" } },
});
const targetMb = positiveInteger("mb", values.mb);
const rounds = positiveInteger("rounds", values.rounds, 100);

interface Sample {
  ms: number;
  bytes: number;
  steps?: StepRecord[];
}

/** ~400 bytes a row on disk; half random hex (compresses like real ids and hashes), half repetitive JSON. */
async function load(url: string, megabytes: number): Promise<{ dbBytes: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      "CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz NOT NULL, kind text NOT NULL, payload jsonb NOT NULL, note text)",
    );
    let dbBytes = 0;
    while (dbBytes < megabytes * 1e6) {
      await client.query(`INSERT INTO events (at, kind, payload, note)
        SELECT now() - (i || ' seconds')::interval, (ARRAY['view','click','order','refund'])[1 + i % 4],
               jsonb_build_object('user', i % 10000, 'path', '/products/' || (i % 500), 'ok', i % 7 <> 0),
               md5(random()::text) || md5(random()::text) || md5(random()::text)
        FROM generate_series(1, 100000) i`);
      dbBytes = Number((await client.query("SELECT pg_database_size(current_database()) AS n")).rows[0].n);
    }
    // Settled before any side runs: hint bits set, dirty pages written, so no side pays for the load.
    await client.query("VACUUM ANALYZE events");
    await client.query("CHECKPOINT");
    const rows = Number((await client.query("SELECT count(*) AS n FROM events")).rows[0].n);
    return { dbBytes, rows };
  } finally {
    await client.end();
  }
}

function benchEnvironment(dir: string): Environment {
  return {
    name: "bench",
    target: { kind: "local" },
    compose: {
      project: "bench",
      // Where the backup's time for node-exporter goes (monitoring/textfile under it): the scratch directory.
      directory: dir,
      cli: "docker compose",
      appService: "app",
      nginxService: "nginx",
      nginxConfDirectory: ".",
    },
    app: { port: 3000, migrate: ["node", "dist/cli.js", "migrate"], secrets: [] },
    stateDirectory: path.join(dir, "state"),
    publicUrl: "http://127.0.0.1",
    healthPath: "/healthz",
    database: { urlEnv: "UNUSED" },
    timeouts: { commandSeconds: 3600, healthSeconds: 60, lockStaleMinutes: 60 },
    watch: { seconds: 0, maxErrorPercent: 1, minRequests: 20 },
    backup: {
      where: "cli",
      directory: path.join(dir, "backups"),
      retention: { last: 1, daily: 1, weekly: 0 },
      encryptTo: [],
    },
    requireConfirmation: false,
  };
}

const server = await startPostgres();
const dir = await makeScratchDir("bench-backup");
try {
  const url = await server.createDatabase("bench");
  const conn = parseDatabaseUrl(url, "bench");
  const binDir = choosePostgresBinDir(process.env, await readdir("/usr/lib/postgresql").catch(() => []));
  const tool = (name: string) => (binDir ? path.join(binDir, name) : name);

  const started = performance.now();
  const { dbBytes, rows } = await load(url, targetMb);
  const mb = dbBytes / 1e6;
  console.log(
    `database: ${mb.toFixed(0)} MB, ${rows} rows (generated in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );

  const gzFile = path.join(dir, "plain.sql.gz");
  const environment = benchEnvironment(dir);
  const sides = {
    // The one-liner as a shell runs it: both processes and the pipe between them, no Node in the path.
    "pg_dump | gzip": async (): Promise<Sample> => {
      const t0 = performance.now();
      await execa("sh", ["-c", `"$0" --no-password --dbname=bench | gzip > "$1"`, tool("pg_dump"), gzFile], {
        env: pgEnv(conn, "bench"),
        stdin: "ignore",
      });
      const ms = performance.now() - t0;
      const bytes = (await stat(gzFile)).size;
      await rm(gzFile);
      return { ms, bytes };
    },
    "verified backup": async (): Promise<Sample> => {
      const progress = new Progress(() => {});
      const t0 = performance.now();
      const { entry } = await backup({
        environment,
        conn,
        tools: { binDir },
        runner: localRunner(3600),
        progress,
        directory: environment.backup.directory,
      });
      const ms = performance.now() - t0;
      await rm(path.join(environment.backup.directory, entry.file));
      return { ms, bytes: entry.sizeBytes, steps: progress.steps };
    },
  };
  const { samples, loadAverages } = await alternateRounds(rounds, sides);

  const seconds = (s: Sample[]) => s.map((x) => x.ms / 1000);
  const rates = (s: Sample[]) => s.map((x) => mb / (x.ms / 1000));
  const baseline = samples["pg_dump | gzip"];
  const ours = samples["verified backup"];
  console.log(`\n${machineLine(rounds, loadAverages)}`);
  console.log(
    `database ${mb.toFixed(0)} MB (pg_database_size), ${rows} rows; rate = database size / wall time\n`,
  );
  console.log(
    figureTable([
      { label: "pg_dump | gzip", values: seconds(baseline), unit: "s", digits: 2 },
      { label: "verified backup", values: seconds(ours), unit: "s", digits: 2 },
      { label: "pg_dump | gzip", values: rates(baseline), unit: "MB/s" },
      { label: "verified backup", values: rates(ours), unit: "MB/s" },
    ]),
  );
  console.log(
    `\noutput: pg_dump | gzip ${((baseline.at(-1)?.bytes ?? 0) / 1e6).toFixed(1)} MB (restorable: unknown), ` +
      `verified backup ${((ours.at(-1)?.bytes ?? 0) / 1e6).toFixed(1)} MB (proven: ${rows} rows restored and counted)`,
  );
  console.log(
    `ratio of medians, verified / plain: ${ratioOfMedians(seconds(ours), seconds(baseline)).toFixed(2)}x`,
  );
  console.log(`\nverified backup, step by step (last round):`);
  for (const record of ours.at(-1)?.steps ?? [])
    console.log(`  ${record.step.padEnd(44)} ${(record.ms / 1000).toFixed(2).padStart(8)} s`);
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
