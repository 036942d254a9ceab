/** A real Postgres server in a scratch directory on a free 127.0.0.1 port, gone after stop(). */
import { randomBytes } from "node:crypto";
import { chown, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import pg from "pg";
import { freePort, waitUntil } from "./network.js";
import { stopProcess } from "./process.js";
import { makeScratchDir } from "./scratch-dir.js";
import { choosePostgresBinDir, postgresPlan } from "./server-plans.js";

export interface EphemeralPostgres {
  pid: number;
  /** Everything the server wrote lives under here; stop() removes it. */
  dir: string;
  /** Superuser URL of the server's `postgres` database. */
  adminUrl: string;
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

async function debianPostgresMajors(): Promise<string[]> {
  try {
    return await readdir("/usr/lib/postgresql");
  } catch {
    return [];
  }
}

export async function startPostgres(): Promise<EphemeralPostgres> {
  const root = await makeScratchDir("pg");
  const runAsUser = process.getuid?.() === 0 ? "postgres" : null;
  const dataDir = path.join(root, "data");
  const passwordFile = path.join(root, "pwfile");
  const password = randomBytes(18).toString("base64url");
  const port = await freePort();
  const plan = postgresPlan({
    binDir: choosePostgresBinDir(process.env, await debianPostgresMajors()),
    dataDir,
    socketDir: root,
    passwordFile,
    port,
    runAsUser,
  });

  await writeFile(passwordFile, password, { mode: 0o600 });
  await mkdir(dataDir, { mode: 0o700 });
  if (runAsUser) {
    const { uid, gid } = await idsOf(runAsUser);
    await Promise.all([root, dataDir, passwordFile].map((p) => chown(p, uid, gid)));
  }

  let server: ResultPromise | undefined;
  try {
    const [initdb, ...initArgs] = plan.initdb;
    await execa(initdb, initArgs, { all: true });
    await rm(passwordFile);
    const [postgres, ...serverArgs] = plan.server;
    // cleanup: false: execa's own exit hooks would re-raise SIGINT before our teardown runs; the
    // server's lifetime is ours to manage (stop(), and the parent-death signal as the backstop).
    server = execa(postgres, serverArgs, { stdio: "ignore", reject: false, cleanup: false });
    const [isReady, ...readyArgs] = plan.isReady;
    await waitUntil(
      "Postgres",
      async () => (await execa(isReady, readyArgs, { reject: false })).exitCode === 0,
      30_000,
    );
  } catch (error) {
    if (server) await stopProcess(server, "SIGINT");
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  const urlFor = (database: string) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const running = server;
  return {
    pid: running.pid as number,
    dir: root,
    adminUrl: urlFor("postgres"),
    urlFor,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: urlFor("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    async stop() {
      await stopProcess(running, "SIGINT");
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const { stdout } = await execa("id", ["-u", user]);
  const { stdout: group } = await execa("id", ["-g", user]);
  return { uid: Number(stdout), gid: Number(group) };
}
