/**
 * A backup directory that is full, for real: a small tmpfs mounted as the directory (root only), a real
 * Postgres. The preflight refuses with one line naming the directory and the space; a disk that fills up
 * during the dump is named the same way; neither leaves a file or a catalog entry behind.
 */
import { chmod, mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EphemeralPostgres, startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { choosePostgresBinDir } from "../../../test/harness/server-plans.js";
import { query } from "../../../test/harness/sql.js";
import { type BackupContext, backup, NoSpaceLeft } from "../../src/backup/backup.js";
import { readCatalog } from "../../src/backup/catalog.js";
import { parseDatabaseUrl } from "../../src/commands/postgres.js";
import { Progress } from "../../src/progress.js";
import { localRunner } from "../../src/runner.js";
import { runCli } from "../support/cli.js";
import { composeIn, localEntry, localEnvironment, writeEnvironmentsFile } from "../support/environment.js";

const root = process.getuid?.() === 0;

let server: EphemeralPostgres;
let binDir: string | null;
let dir: string;
let databaseUrl: string;
const mounted: string[] = [];

/** A directory that is a tmpfs of `megabytes`: a file system of its own, which fills up for real. */
async function smallDisk(name: string, megabytes: number): Promise<string> {
  const mountPoint = path.join(dir, name);
  await mkdir(mountPoint);
  await execa("mount", ["-t", "tmpfs", "-o", `size=${megabytes}m,mode=0700`, "tmpfs", mountPoint]);
  mounted.push(mountPoint);
  return mountPoint;
}

async function unmountAll(): Promise<void> {
  for (const mountPoint of mounted.splice(0)) await execa("umount", [mountPoint], { reject: false });
}

/**
 * A tool directory whose pg_dump first fills the backup directory (another process's files, say) and
 * then dumps; with `quiet`, it reports its failure only by its exit code, as a dump streamed through
 * ssh or docker does.
 */
async function fillingPgDump(quiet: boolean): Promise<string> {
  const tools = path.join(dir, quiet ? "quiet-bin" : "filling-bin");
  await mkdir(tools);
  for (const tool of ["pg_restore", "createdb", "dropdb", "psql"]) {
    await symlink(
      binDir ? path.join(binDir, tool) : (await execa("which", [tool])).stdout,
      path.join(tools, tool),
    );
  }
  const realDump = binDir ? path.join(binDir, "pg_dump") : (await execa("which", ["pg_dump"])).stdout;
  await writeFile(
    path.join(tools, "pg_dump"),
    `#!/bin/sh
for a in "$@"; do case "$a" in --file=*) f="\${a#--file=}";; esac; done
dd if=/dev/zero of="$(dirname "$f")/filler" bs=64k 2>/dev/null
${quiet ? `"${realDump}" "$@" 2>/dev/null || { echo "dump stream ended" >&2; exit 243; }` : `exec "${realDump}" "$@"`}
`,
  );
  await chmod(path.join(tools, "pg_dump"), 0o755);
  return tools;
}

function context(directory: string, tools: string | null = binDir): BackupContext {
  const environment = localEnvironment(dir, {
    compose: { ...localEnvironment(dir).compose, ...composeIn(dir) },
  });
  environment.backup.directory = directory;
  return {
    environment,
    conn: parseDatabaseUrl(databaseUrl, "DATABASE_URL"),
    tools: { binDir: tools },
    runner: localRunner(120),
    progress: new Progress(() => {}),
    directory,
  };
}

beforeAll(async () => {
  // No skipped test: without root the run says what it needs (CI runs as root).
  if (!root) throw new Error("these tests mount a small tmpfs, which needs root: run them as root (CI does)");
  server = await startPostgres();
  binDir = choosePostgresBinDir(process.env, await readdir("/usr/lib/postgresql").catch(() => []));
});
afterAll(async () => {
  await unmountAll();
  await server?.stop();
});

let dbCounter = 0;
beforeEach(async () => {
  dir = await makeScratchDir("disk-full");
  databaseUrl = await server.createDatabase(`full_${++dbCounter}`);
  await query(
    databaseUrl,
    `CREATE TABLE products (id serial PRIMARY KEY, name text);
     INSERT INTO products (name) SELECT 'product ' || i FROM generate_series(1, 2000) i;`,
  );
  return async () => {
    await unmountAll();
    await rm(dir, { recursive: true, force: true });
  };
});

const databaseMb = async () =>
  Math.ceil(
    Number(
      (await query<{ size: string }>(databaseUrl, "SELECT pg_database_size(current_database()) AS size"))
        .rows[0]?.size,
    ) / 1e6,
  );

describe("a backup into a full directory (tmpfs, as root)", () => {
  it("is refused by the preflight: the database's size against the directory's free space, in one line", async () => {
    const directory = await smallDisk("backups", 2);
    const ctx = context(directory);
    // Measured first: awaited after the backup started, a quick refusal would reject with no handler yet.
    const needs = await databaseMb();
    const refused = backup(ctx);
    await expect(refused).rejects.toThrow(
      new NoSpaceLeft(`no space left on device in ${directory} (needs ~${needs} MB, has 2 MB)`),
    );
    expect(ctx.progress.steps.map((s) => [s.step, s.ok])).toEqual([
      ["preflight: database size", true],
      ["preflight: free space", false],
    ]);
    expect(await readdir(directory)).toEqual([]);
  });

  it("names a disk that fills up during the dump, and leaves no partial file and no catalog", async () => {
    const directory = await smallDisk("backups", 32);
    const ctx = context(directory, await fillingPgDump(false));
    const needs = await databaseMb();
    const failed = backup(ctx);
    await expect(failed).rejects.toThrow(
      new RegExp(`^no space left on device in ${directory} \\(needs ~${needs} MB, has 0 MB\\)$`),
    );
    await expect(failed).rejects.toMatchObject({
      name: "NoSpaceLeft",
      cause: { stderr: expect.stringMatching(/No space left on device/) },
    });
    expect(ctx.progress.steps.find((s) => !s.ok)?.step).toBe("dump");
    expect(await readCatalog(directory)).toEqual([]);
    expect(await readdir(directory)).toEqual(["filler"]);
  });

  it("names it too when the dump says only that it failed, because the directory is full", async () => {
    const directory = await smallDisk("backups", 32);
    const failed = backup(context(directory, await fillingPgDump(true)));
    await expect(failed).rejects.toThrow(new RegExp(`^no space left on device in ${directory} \\(`));
    expect(await readdir(directory)).toEqual(["filler"]);
  });

  it("the CLI prints that one line and exits 1; --json names the fault", async () => {
    const directory = await smallDisk("backups", 2);
    const config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
      local: localEntry(dir, {
        compose: composeIn(dir),
        backup: { directory, retention: { daily: 7, weekly: 4 } },
      }),
    });
    const shipyard = (...args: string[]) =>
      runCli(["backup", "--env=local", ...args], {
        config,
        env: { DATABASE_URL: databaseUrl, ...(binDir ? { PG_BIN_DIR: binDir } : {}) },
      });
    const line = `no space left on device in ${directory} (needs ~${await databaseMb()} MB, has 2 MB)`;

    const human = await shipyard();
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toContain(`shipyard backup: ${line}\n`);
    expect(human.stderr).not.toMatch(/failed \(exit/);

    const json = await shipyard("--json");
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      error: { kind: "NoSpaceLeft", message: line },
    });
    expect(await readdir(directory)).toEqual([]);
  });
});
