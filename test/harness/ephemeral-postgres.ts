/** A real Postgres server in a scratch directory on a free 127.0.0.1 port, gone after stop(). */
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import pg from "pg";
import { freePort, waitUntil } from "./network.js";
import { copyCluster, newCluster, ownedBy, templateCluster } from "./postgres-cluster.js";
import { stopProcess } from "./process.js";
import { makeScratchDir } from "./scratch-dir.js";
import { choosePostgresBinDir, postgresServerArgv } from "./server-plans.js";

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

export interface PostgresStartOptions {
  /**
   * "template" (the default): a copy of the cluster initdb made once for this machine (postgres-cluster.ts).
   * "initdb": a new cluster for this start, as every start made before; kept as bench/harness/start.ts's baseline.
   */
  cluster?: "template" | "initdb";
}

async function debianPostgresMajors(): Promise<string[]> {
  try {
    return await readdir("/usr/lib/postgresql");
  } catch {
    return [];
  }
}

export async function startPostgres(options: PostgresStartOptions = {}): Promise<EphemeralPostgres> {
  const root = await makeScratchDir("pg");
  const owner = {
    binDir: choosePostgresBinDir(process.env, await debianPostgresMajors()),
    runAsUser: process.getuid?.() === 0 ? "postgres" : null,
  };
  const dataDir = path.join(root, "data");
  const password = randomBytes(18).toString("base64url");
  const port = await freePort();

  let server: ResultPromise | undefined;
  let template: string | undefined;
  try {
    // The socket directory: mode 0700 (mkdtemp), so only the server's user and root reach the socket.
    [template] = await Promise.all([
      options.cluster === "initdb" ? undefined : templateCluster(owner),
      ownedBy(owner.runAsUser, root),
    ]);
    await (template ? copyCluster(template, dataDir) : newCluster(owner, dataDir));
    const [postgres, ...serverArgs] = postgresServerArgv({ ...owner, dataDir, socketDir: root, port });
    // cleanup: false: execa's own exit hooks would re-raise SIGINT before our teardown runs; the
    // server's lifetime is ours to manage (stop(), and the parent-death signal as the backstop).
    server = execa(postgres, serverArgs, { stdio: "ignore", reject: false, cleanup: false });
    await waitUntil("Postgres", () => acceptsConnections(dataDir), 30_000, 25);
    await setPassword(root, port, password);
  } catch (error) {
    if (server) await stopProcess(server, "SIGINT");
    await rm(root, { recursive: true, force: true });
    if (template) throw new Error(`Postgres did not start from the template ${template}`, { cause: error });
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

/**
 * What pg_ctl reads: the postmaster's status, the last line of postmaster.pid. Reading a file costs nothing,
 * where a login tried too early costs a backend process that only says "starting up".
 */
async function acceptsConnections(dataDir: string): Promise<boolean> {
  try {
    const lines = (await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n");
    return lines[7]?.trim() === "ready";
  } catch {
    return false;
  }
}

/** Over the Unix socket, which trusts its callers (see initdbArgv); TCP logins then need this password. */
async function setPassword(socketDir: string, port: number, password: string): Promise<boolean> {
  const client = new pg.Client({ host: socketDir, port, user: "postgres", database: "postgres" });
  await client.connect();
  try {
    await client.query(`ALTER ROLE postgres PASSWORD ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
  return true;
}
