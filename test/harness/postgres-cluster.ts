/**
 * The cluster a throw-away Postgres starts from. initdb takes seconds, and many more on a busy machine (it
 * runs a bootstrap backend that builds template1 and copies it twice), so it runs once per machine, Postgres
 * build and user, into a template kept in a cache directory; each start copies the template (cp -a, tens of
 * milliseconds). A template is built in a scratch directory beside it and published by one rename, so a
 * reader sees either nothing or a whole cluster, two runs that build at once cannot corrupt it (the second
 * rename fails and its copy is dropped), and nothing writes to a template once it is published.
 */
import { randomBytes } from "node:crypto";
import { access, chmod, chown, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { makeScratchDir, sweepStaleScratchDirs } from "./scratch-dir.js";
import {
  initdbArgv,
  postgresVersionArgv,
  syncClusterArgv,
  templateCacheDir,
  templateName,
} from "./server-plans.js";

export interface ClusterOwner {
  binDir: string | null;
  /** Who runs Postgres (we are root), or null: the current user. */
  runAsUser: string | null;
}

/** initdb into `dataDir`, whose parent exists and belongs to the cluster's user. */
export async function newCluster(owner: ClusterOwner, dataDir: string): Promise<void> {
  const passwordFile = path.join(path.dirname(dataDir), "initdb-password");
  await writeFile(passwordFile, randomBytes(18).toString("base64url"), { mode: 0o600 });
  await mkdir(dataDir, { mode: 0o700 });
  await ownedBy(owner.runAsUser, passwordFile, dataDir);
  try {
    const [initdb, ...args] = initdbArgv({ ...owner, dataDir, passwordFile });
    await execa(initdb, args, { all: true });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** A copy of `template` at `dataDir` (which must not exist yet), with the template's owner and modes. */
export async function copyCluster(template: string, dataDir: string): Promise<void> {
  await execa("cp", ["-a", "--", template, dataDir]);
}

/** The template for this Postgres build and user, built first if this machine has none yet. */
export async function templateCluster(owner: ClusterOwner): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  const cacheDir = templateCacheDir(process.env, uid);
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  await mustBeOurs(cacheDir, uid);
  // Postgres' user builds the template in here when we are root: it must enter, whatever the umask.
  if (owner.runAsUser) await chmod(cacheDir, 0o755);
  const [postgres, ...versionArgs] = postgresVersionArgv(owner.binDir);
  const { stdout: version } = await execa(postgres, versionArgs);
  const template = path.join(
    cacheDir,
    templateName({
      version: version.trim(),
      owner: owner.runAsUser ?? `uid ${uid}`,
      initdb: initdbArgv({ ...owner, dataDir: "<data>", passwordFile: "<password>" }),
    }),
  );
  if (!(await isCluster(template))) await buildTemplate(owner, cacheDir, template);
  return template;
}

async function buildTemplate(owner: ClusterOwner, cacheDir: string, template: string): Promise<void> {
  // Leftovers of builds whose run was killed; a build going on in another run is left alone.
  await sweepStaleScratchDirs(cacheDir);
  // Beside the template, so the rename that publishes it never crosses a filesystem.
  const scratch = await makeScratchDir("pg-template", cacheDir);
  try {
    await ownedBy(owner.runAsUser, scratch);
    const built = path.join(scratch, "data");
    await newCluster(owner, built);
    const [initdb, ...syncArgs] = syncClusterArgv({ ...owner, dataDir: built });
    await execa(initdb, syncArgs, { all: true });
    await publish(built, template);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (!(await isCluster(template))) {
    throw new Error(`${template} is not a Postgres cluster: delete it and run again`);
  }
}

/** Renames `built` to `template`; when another run published it first, theirs stays and ours is dropped. */
async function publish(built: string, template: string): Promise<void> {
  try {
    await rename(built, template);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}

async function isCluster(dir: string): Promise<boolean> {
  try {
    await access(path.join(dir, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

/**
 * Every server the tests start runs what the template holds, its postgresql.conf too: a cache directory that
 * someone else owns or may write to could hold a planted one, so it is refused.
 */
async function mustBeOurs(dir: string, uid: number): Promise<void> {
  const { uid: owner, mode } = await stat(dir);
  if (owner !== uid || (mode & 0o022) !== 0) {
    throw new Error(
      `${dir} must belong to uid ${uid} and be writable by no one else (it holds the template Postgres ` +
        "clusters the tests copy); remove it, or set SHIPYARD_TEST_CACHE to another directory",
    );
  }
}

/** Gives `paths` to `user` (when we are root and Postgres runs as someone else). */
export async function ownedBy(user: string | null, ...paths: string[]): Promise<void> {
  if (!user) return;
  const { uid, gid } = await idsOf(user);
  await Promise.all(paths.map((p) => chown(p, uid, gid)));
}

const ids = new Map<string, Promise<{ uid: number; gid: number }>>();

function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  let found = ids.get(user);
  if (!found) {
    found = Promise.all([execa("id", ["-u", user]), execa("id", ["-g", user])]).then(([uid, gid]) => ({
      uid: Number(uid.stdout),
      gid: Number(gid.stdout),
    }));
    ids.set(user, found);
  }
  return found;
}
