/**
 * The live progress line of long work, through the CLI as an operator runs it against a real Postgres:
 * forced on without a terminal (SHIPYARD_PROGRESS=always), it shows bytes and a rate for the dump, its
 * check and the fetched copy; with --json there is none, and stdout is the envelope alone.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadline } from "../../../test/harness/deadline.js";
import { type EphemeralPostgres, startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { query } from "../../../test/harness/sql.js";
import { CLEAR_LINE } from "../../src/transfer.js";
import { runCli } from "../support/cli.js";
import { composeIn, localEntry, writeEnvironmentsFile } from "../support/environment.js";

let server: EphemeralPostgres;
let dir: string;
let databaseUrl: string;
let config: string;

beforeAll(async () => {
  [server, dir] = await Promise.all([startPostgres(), makeScratchDir("cli-progress")]);
  databaseUrl = await server.createDatabase("shop");
  // Enough rows for a dump of a few hundred kB: bytes worth counting, still quick.
  await query(
    databaseUrl,
    `CREATE TABLE products (id serial PRIMARY KEY, name text);
     INSERT INTO products (name) SELECT md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 20000) i;`,
  );
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    local: localEntry(dir, { compose: composeIn(dir), database: { urlEnv: "SHOP_URL" } }),
  });
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const shipyard = (progress: string, ...args: string[]) =>
  runCli(args, { config, env: { SHOP_URL: databaseUrl, SHIPYARD_PROGRESS: progress } });

/** A frame of the live line (each drawn over the last after CLEAR_LINE): bytes, then a rate. */
const FRAME = /^ {2}[\d.]+ [kMG]?B(?: of [\d.]+ [kMG]?B \(\d+%\))? · [\d.]+ [kMG]?B\/s · [^\n]*$/;
const SIZE_AND_RATE = /[\d.]+ [kMG]?B at [\d.]+ [kMG]?B\/s$/;

describe("progress of long work through the CLI", () => {
  it(
    "SHIPYARD_PROGRESS=always draws bytes and a rate without a terminal; each step's line keeps the totals",
    async () => {
      const fetched = path.join(dir, "fetched", "copy.dump");
      const run = await shipyard("always", "backup", "--env=local", `--fetch-to=${fetched}`);
      expect(run.exitCode, run.stderr).toBe(0);
      const drawn = run.stderr.split(CLEAR_LINE);
      const frames = drawn.filter((piece) => FRAME.test(piece));
      expect(frames.length).toBeGreaterThan(0);
      // The copy's size is known beforehand: its frames have a percentage.
      expect(frames.some((frame) => / of [\d.]+ [kMG]?B \(100%\) · /.test(frame))).toBe(true);
      // What a terminal ends up showing: each frame drawn over, then cleared for the step's own line.
      const lines = drawn
        .filter((piece) => !FRAME.test(piece))
        .join("")
        .split("\n");
      for (const step of ["dump", "restore into scratch", "fetch"])
        expect(lines.find((l) => l.startsWith(`✓ ${step} (`))).toMatch(SIZE_AND_RATE);
      // A step that moves no bytes keeps its line as it was.
      expect(lines.find((l) => l.startsWith("✓ verify row counts ("))).toMatch(/rows match$/);
    },
    deadline({ cli: 1 }),
  );

  it(
    "--json draws nothing, whatever SHIPYARD_PROGRESS says, and stdout is the envelope with the totals",
    async () => {
      const run = await shipyard("always", "backup", "--env=local", "--json");
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stderr).not.toContain("\r");
      expect(run.stderr).not.toMatch(/^ {2}[\d.]+ [kMG]?B/m);
      const envelope = JSON.parse(run.stdout);
      expect(envelope).toMatchObject({ ok: true, command: "backup" });
      const dump = envelope.steps.find((s: { step: string }) => s.step === "dump");
      expect(dump.detail).toMatch(SIZE_AND_RATE);
    },
    deadline({ cli: 1 }),
  );

  it(
    "an unknown SHIPYARD_PROGRESS is a mistake named as such (exit 2), before anything runs",
    async () => {
      const run = await shipyard("yes", "backup", "--env=local");
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain("SHIPYARD_PROGRESS=yes is not one of auto, always, never");
      expect(run.stderr).not.toContain("→");
    },
    deadline({ cli: 1 }),
  );
});
