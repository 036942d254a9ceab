/**
 * The restore run against FakeRunner (see backup-scene.ts): the exact commands it executes and where, that
 * --dry-run prints the steps it takes, and for a failure at each step what became of the data, the lock
 * and the catalog, and what the operator reads: once the safety backup is taken, how to put it back.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { type BackupContext, backup } from "../../src/backup/backup.js";
import { type BackupEntry, readCatalog } from "../../src/backup/catalog.js";
import { postgresContainer } from "../../src/backup/context.js";
import { planRestore, type RestoreRequest, restore } from "../../src/backup/restore.js";
import { acquireLock, lockHolderSchema, releaseLock } from "../../src/commands/lock.js";
import {
  containerCounts,
  containerRestore,
  createDatabase,
  dropDatabase,
  pgRestore,
  pgRestoreList,
} from "../../src/commands/postgres.js";
import type { Environment } from "../../src/config/environments.js";
import { conn, line, type SceneOptions, scene, TABLES } from "../support/backup-scene.js";
import { localEnvironment } from "../support/environment.js";
import type { FakeRunner } from "../support/fake-runner.js";

let dir: string;
let env: Environment;
let original: BackupEntry;
beforeEach(async () => {
  dir = await makeScratchDir("restore-steps");
  env = localEnvironment(dir);
  original = (await backup(scene(env).ctx)).entry;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const request = (): RestoreRequest => ({
  id: original.id,
  confirm: undefined,
  ageIdentityFile: undefined,
  who: "ci",
});
const tools = { binDir: null };

function restoring(environment: Environment, options: SceneOptions = {}) {
  const s = scene(environment, options);
  return { ...s, run: (ctx: BackupContext = s.ctx) => restore(ctx, s.host, request()) };
}

/** The token the restore's lock was taken with, which unlocking names. */
const token = (host: FakeRunner) =>
  lockHolderSchema.parse(JSON.parse(host.ran.find((c) => c.stdin?.includes('"token"'))?.stdin ?? "")).token;
const state = () => env.stateDirectory;
const locked = (host: FakeRunner) => [
  line(acquireLock(state(), { holder: "", purpose: "", since: "", token: "" })),
  line(releaseLock(state(), token(host))),
];

/** The scratch database of the check a restore makes, and of a backup's, from the commands run. */
const scratchesIn = (lines: string[]) =>
  lines.filter((l) => l.startsWith("createdb")).map((l) => l.split(" ").at(-1) ?? "");

describe("a restore by URL, run against FakeRunner", () => {
  it("checks the file, then under the lock takes a safety backup, restores and counts, each where it belongs", async () => {
    const { run, local, host } = restoring(env, { live: [...TABLES, { table: "public.sessions", rows: 9 }] });
    const result = await run();

    const stored = path.join(env.backup.directory, original.file);
    const [check, safetyScratch] = scratchesIn(local.lines);
    expect(check).toBe(`shipyard_verify_check_${original.id.replaceAll("-", "_")}`);
    const safety = result.safetyBackup;
    const safetyPartial = path.join(env.backup.directory, `${safety.id}.dump.partial`);
    expect(local.lines).toEqual([
      line(pgRestoreList(tools, stored)),
      line(dropDatabase(tools, conn, check ?? "")),
      line(createDatabase(tools, conn, check ?? "")),
      line(pgRestore(tools, conn, stored, check ?? "", "into-empty")),
      line(dropDatabase(tools, conn, check ?? "")),
      // The safety backup, as `backup` runs it.
      expect.stringMatching(/^psql /),
      expect.stringMatching(/^df /),
      expect.stringMatching(new RegExp(`^pg_dump .*--file=${safetyPartial} `)),
      line(dropDatabase(tools, conn, safetyScratch ?? "")),
      line(createDatabase(tools, conn, safetyScratch ?? "")),
      line(pgRestore(tools, conn, safetyPartial, safetyScratch ?? "", "into-empty")),
      line(dropDatabase(tools, conn, safetyScratch ?? "")),
      expect.stringMatching(/^sh -c .* shipyard-textfile .*shipyard_backup_local\.prom$/s),
      line(pgRestore(tools, conn, stored, "shop", "replace")),
    ]);
    // Only the lock is the host's: by URL, everything else runs here.
    expect(host.lines).toEqual(locked(host));
    expect(result.restored).toEqual(original);
    expect(safety.reason).toBe(`safety backup before restoring ${original.id}`);
    expect(result.untouchedTables).toEqual(["public.sessions"]);
    expect((await readCatalog(env.backup.directory)).map((b) => b.id)).toEqual([original.id, safety.id]);
  });

  it("takes the very steps --dry-run prints (the safety backup's own are `backup --dry-run`'s)", async () => {
    const { run, ctx, progress } = restoring(env);
    await run();
    const ran = progress.steps.map((s) => s.step);
    const own = [...ran.slice(0, ran.indexOf("lock") + 1), ...ran.slice(ran.indexOf("safety backup"))];
    const plan = planRestore(ctx, original);
    expect(own).toEqual(plan.map((s) => s.step));
    expect(plan.find((s) => s.step === "restore")?.argv).toEqual(
      pgRestore(tools, conn, path.join(env.backup.directory, original.file), "shop", "replace").argv,
    );
  });
});

describe("a restore in the Postgres container, run against FakeRunner", () => {
  it("restores and counts on the host, and the safety backup dumps over the same connection", async () => {
    const environment = {
      ...env,
      database: { urlEnv: "UNUSED", dumpFrom: "compose-service" as const },
    };
    const { run, ctx, host } = restoring(environment);
    const { host: _, ...withoutHost } = ctx;
    await run(withoutHost);
    const target = postgresContainer(environment);
    const stored = path.join(env.backup.directory, original.file);
    expect(host.lines.slice(1, -1)).toEqual([
      expect.stringContaining("exec -T postgres sh -c exec psql"), // the safety backup's size
      expect.stringContaining("exec -T postgres sh -c exec psql"), // and its dump
      expect.stringContaining("shipyard-textfile"), // and its time, for node-exporter
      line(containerRestore(target, stored)),
      line(containerCounts(target)),
    ]);
    expect(host.ran.at(-3)?.stdinFile).toBe(stored);
  });
});

/** For a failure at each step: [step, which start of that name, whether the safety backup was taken]. */
const failures: [step: string, nth: number, safety: boolean][] = [
  ["contents", 1, false],
  ["clear scratch database", 1, false],
  ["scratch database", 1, false],
  ["restore into scratch", 1, false],
  ["verify row counts", 1, false],
  ["drop scratch database", 1, false],
  ["lock", 1, false],
  // Inside the safety backup.
  ["preflight: free space", 1, false],
  ["dump", 1, false],
  ["verify row counts", 2, false],
  ["restore", 1, true],
  ["verify row counts", 3, true],
];

describe("a restore that fails", () => {
  it.each(failures)(
    "at %s (#%i) restores nothing it should not, and leaves no lock or scratch database",
    async (failAt, nth, safety) => {
      const { run, local, host, progress } = restoring(env, { failAt, nth });
      const failed = run();
      await expect(failed).rejects.toThrow();
      const error = (await failed.catch((e: Error) => e)) as Error;

      const replaced = local.lines.includes(
        line(pgRestore(tools, conn, path.join(env.backup.directory, original.file), "shop", "replace")),
      );
      expect(replaced).toBe(failAt === "restore" || (failAt === "verify row counts" && nth === 3));
      const catalog = (await readCatalog(env.backup.directory)).map((b) => b.id);
      expect(catalog).toHaveLength(safety ? 2 : 1);
      // Every scratch database that was created was dropped again, last thing for it.
      for (const scratch of scratchesIn(local.lines)) {
        const drop = line(dropDatabase(tools, conn, scratch));
        expect(local.lines.lastIndexOf(drop)).toBeGreaterThan(
          local.lines.lastIndexOf(line(createDatabase(tools, conn, scratch))),
        );
      }
      // The lock, once taken, was given back.
      if (host.lines.length > 0 && failAt !== "lock") expect(host.lines.at(-1)).toBe(locked(host)[1]);
      expect(progress.steps.find((s) => !s.ok)?.step).toBe(failAt);

      if (safety) {
        const back = catalog[1];
        expect(error.name).toBe("RestoreFailed");
        expect(error.message).toContain(`restore of ${original.id} failed at "${failAt}": ${failAt} broke`);
        expect(error.message).toContain(`the data from before the restore is in backup ${back}`);
        expect(error.message).toContain(
          `to put it back: shipyard restore --env=local --backup=${back}\n`.trimEnd(),
        );
        expect(error.message).toContain(
          failAt === "restore"
            ? "pg_restore runs in one transaction, so the data should be as it was"
            : "the data was replaced",
        );
      } else if (host.lines.length > 0 && failAt !== "lock") {
        expect(error.message).toMatch(/^the safety backup failed, so nothing was restored: /);
      }
    },
  );

  it("after the safety backup names the confirmation the put-back needs", async () => {
    env = localEnvironment(dir, { name: "prod", requireConfirmation: true });
    original = (await backup(scene(env).ctx)).entry;
    const s = scene(env, { failAt: "restore" });
    const failed = restore(s.ctx, s.host, { ...request(), confirm: "prod" });
    await expect(failed).rejects.toThrow(
      /to put it back: shipyard restore --env=prod --backup=prod-\S+ --confirm=prod$/,
    );
  });

  it("refuses a file that no longer matches its checksum, or holds another database, before the lock", async () => {
    const stored = path.join(env.backup.directory, original.file);
    await writeFile(stored, `${await readFile(stored, "utf8")}tampered`);
    const corrupted = restoring(env);
    await expect(corrupted.run()).rejects.toThrow(`backup ${original.id} is corrupted: ${stored} has sha256`);
    expect(corrupted.host.lines).toEqual([]);
    expect(corrupted.local.lines).toEqual([]);

    original = (await backup(scene(env).ctx)).entry;
    const other = restoring(env, {
      answers: (c) => (c.argv.includes("--list") ? { stdout: ";     dbname: other\n" } : undefined),
    });
    await expect(other.run()).rejects.toThrow(
      `backup ${original.id} does not hold what the catalog records: it is a dump of database "other", the catalog says "shop"; nothing was restored`,
    );
    expect(other.host.lines).toEqual([]);
  });

  it("of an encrypted backup without the identity says which variable to set, before the lock", async () => {
    env = { ...env, backup: { ...env.backup, encryptTo: ["age1recipient"] } };
    original = (await backup(scene(env).ctx)).entry;
    const { run, host } = restoring(env);
    await expect(run()).rejects.toThrow(
      `backup ${original.id} is encrypted: set SHIPYARD_AGE_IDENTITY_FILE to the age identity file`,
    );
    expect(host.lines).toEqual([]);
  });
});
