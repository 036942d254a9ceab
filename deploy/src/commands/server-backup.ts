/**
 * Backups kept on the server (backup.where: server), as data: the dump written into the host's backup
 * directory, the throw-away Postgres container that restores and counts it there, the files' size and
 * checksum, and the catalog read and written on the host. Every command runs through the host's runner;
 * none carries a secret (the throw-away has no network and trusts only its own socket).
 */
import path from "node:path";
import type { Argv, Command } from "./argv.js";
import { CONTAINER_DUMP_SCRIPT, COUNTS_SCRIPT, containerDump, type ServiceContainer } from "./postgres.js";

/**
 * `command` with its stdout written to `file` on the host, the directory made first; umask 077: the dump
 * is the database's every row, readable by the deploy user alone.
 */
const TO_FILE = `set -e
umask 077
file=$1
shift
mkdir -p -- "$(dirname -- "$file")"
exec "$@" > "$file"`;

/** `command` reading `file` on the host as its stdin (a dump being restored or listed). */
const FROM_FILE = `file=$1
shift
exec "$@" < "$file"`;

export function withStdinFrom(file: string, argv: Argv): Command {
  return { argv: ["sh", "-c", FROM_FILE, "shipyard-from-file", file, ...argv] };
}

/**
 * pg_dump inside the stack's Postgres container at the snapshot its row counts were taken in (the same
 * script as containerDump), written into `file` on the host; the counts come back on stderr.
 */
export function serverDump(target: ServiceContainer, file: string): Command {
  return {
    argv: ["sh", "-c", TO_FILE, "shipyard-dump", file, ...containerDump(target, file).argv],
    stdin: CONTAINER_DUMP_SCRIPT,
  };
}

/** A file sent from this machine (restore --file) into `file` on the host. */
export function receiveFile(file: string): Command {
  return { argv: ["sh", "-c", TO_FILE, "shipyard-receive", file, "cat"] };
}

/** A file on the host streamed back into `localFile` here. */
export function sendFile(file: string, localFile: string): Command {
  return { argv: ["cat", "--", file], stdoutFile: localFile };
}

const IMAGE = `service=$1
shift
id=$("$@")
if [ -z "$id" ]; then
  echo "no running container of the service $service: is the stack up?" >&2
  exit 1
fi
docker inspect --format '{{.Image}}' $id`;

/**
 * The image id of the running Postgres service: the throw-away runs exactly it, so the check restores with
 * the server's own pg_restore into the server's own version, and nothing is pulled.
 */
export function postgresImage(target: ServiceContainer): Command {
  return { argv: ["sh", "-c", IMAGE, "shipyard-postgres-image", target.service, ...target.id] };
}

export function parseImageId(stdout: string): string {
  const id = stdout.trim().split("\n").at(-1)?.trim() ?? "";
  if (!/^sha256:[0-9a-f]{64}$/.test(id))
    throw new Error(`docker reported no image id: ${JSON.stringify(stdout)}`);
  return id;
}

const SPACE = `set -e
dir=$1
while [ ! -d "$dir" ]; do dir=$(dirname -- "$dir"); done
root=$(docker info --format '{{.DockerRootDir}}')
echo "$root"
if [ -d "$root" ]; then
  df --output=target,avail -B1 -- "$dir" "$root"
else
  df --output=target,avail -B1 -- "$dir"
fi`;

/**
 * Docker's data root (where the throw-away's data goes), then df of the file systems the backup directory
 * (before the first backup, its nearest existing parent) and that root are on; creates nothing. A root
 * this machine cannot see (an engine elsewhere, DOCKER_HOST) is left out of df.
 */
export function serverSpace(directory: string): Command {
  return { argv: ["sh", "-c", SPACE, "shipyard-space", directory] };
}

export interface ServerSpace {
  /** The file system of the backup directory: its mount point and the bytes free to this user. */
  directory: { mount: string; free: number };
  /** Null when the root is not on this machine's file systems (the engine runs elsewhere). */
  dockerRoot: { path: string; mount: string; free: number } | null;
}

/** The root's path, df's header, then its lines: the backup directory's file system, then the root's. */
export function parseServerSpace(stdout: string): ServerSpace {
  const [root = "", , ...lines] = stdout.trim().split("\n");
  const rows = lines.map((line) => /^(.*\S)\s+(\d+)$/.exec(line.trim()));
  const [directory, dockerRoot] = rows;
  if (
    !root.startsWith("/") ||
    rows.length < 1 ||
    rows.length > 2 ||
    !directory ||
    (rows.length === 2 && !dockerRoot)
  )
    throw new Error(
      `df reported no free space for the backup directory and Docker's data root: ${JSON.stringify(stdout)}`,
    );
  return {
    directory: { mount: directory[1] as string, free: Number(directory[2]) },
    dockerRoot: dockerRoot
      ? { path: root.trim(), mount: dockerRoot[1] as string, free: Number(dockerRoot[2]) }
      : null,
  };
}

/** The database the throw-away creates and restores into; its superuser is the image's default. */
export const THROWAWAY_DATABASE = "shipyard_verify";
const THROWAWAY_USER = "postgres";

/**
 * Settings for a cluster that lives for one check: no fsync, and wal_level minimal so a restore in one
 * transaction writes its tables without also writing them to the WAL (the disk it needs is the data's).
 */
const THROWAWAY_SETTINGS = [
  "fsync=off",
  "full_page_writes=off",
  "synchronous_commit=off",
  "wal_level=minimal",
  "max_wal_senders=0",
];

/**
 * The throw-away Postgres: the stack's image, no network (reached only by docker exec), trust on its own
 * socket, no capabilities. `timeout` is its first process, so a container the CLI never removes (killed,
 * connection lost) stops after `seconds` anyway, and --rm then removes it with its anonymous data volume.
 */
export function startThrowaway(name: string, image: string, seconds: number): Command {
  return {
    argv: [
      "docker",
      "run",
      "--detach",
      "--rm",
      "--pull=never",
      `--name=${name}`,
      "--label=shipyard.throwaway=verify",
      "--network=none",
      "--user=postgres",
      "--cap-drop=ALL",
      "--security-opt=no-new-privileges",
      "--env=POSTGRES_HOST_AUTH_METHOD=trust",
      `--env=POSTGRES_DB=${THROWAWAY_DATABASE}`,
      "--entrypoint=timeout",
      image,
      "-s",
      "INT",
      String(seconds),
      "docker-entrypoint.sh",
      "postgres",
      ...THROWAWAY_SETTINGS.flatMap((s) => ["-c", s]),
    ],
  };
}

/**
 * Ready over TCP, not the socket: while the entrypoint initialises the cluster, Postgres listens on the
 * socket only, and the database it creates is not there yet.
 */
const READY = `i=0
until pg_isready --quiet --host=127.0.0.1 --username=${THROWAWAY_USER} --dbname=${THROWAWAY_DATABASE}; do
  i=$((i + 1))
  if [ "$i" -ge "$1" ]; then
    echo "the throw-away Postgres was not ready after $1 s" >&2
    exit 1
  fi
  sleep 1
done`;

export function awaitThrowaway(name: string, seconds: number): Command {
  return { argv: ["docker", "exec", name, "sh", "-c", READY, "shipyard-ready", String(seconds)] };
}

/**
 * pg_restore in the throw-away, the dump streamed from the host file on stdin. --no-privileges: the source's
 * roles do not exist there, and grants to them would fail a restore that holds every row.
 */
export function restoreIntoThrowaway(name: string, file: string): Command {
  return withStdinFrom(file, [
    "docker",
    "exec",
    "--interactive",
    name,
    "pg_restore",
    "--no-password",
    "--exit-on-error",
    "--single-transaction",
    "--no-owner",
    "--no-privileges",
    `--username=${THROWAWAY_USER}`,
    `--dbname=${THROWAWAY_DATABASE}`,
  ]);
}

/** Every table's exact row count in the throw-away; parse with parseContainerCounts. */
export function throwawayCounts(name: string): Command {
  return {
    argv: [
      "docker",
      "exec",
      "--interactive",
      name,
      "psql",
      "--no-psqlrc",
      "--quiet",
      "--no-password",
      `--username=${THROWAWAY_USER}`,
      `--dbname=${THROWAWAY_DATABASE}`,
    ],
    stdin: COUNTS_SCRIPT,
  };
}

// Gone is what removing it wants: already (its timeout ended it, it never started), or meanwhile (--rm
// removes it as the kill stops it, and one of the two removals may answer "removal already in progress").
const REMOVE = `if ! docker container inspect "$1" > /dev/null 2>&1; then exit 0; fi
out=$(docker rm --force --volumes "$1" 2>&1) && exit 0
i=0
while docker container inspect "$1" > /dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 30 ]; then
    echo "$out" >&2
    exit 1
  fi
  sleep 1
done`;

export function removeThrowaway(name: string): Command {
  return { argv: ["sh", "-c", REMOVE, "shipyard-remove-throwaway", name] };
}

/** The archive's table of contents, read by the stack's own pg_restore from the file on the host. */
export function archiveList(target: ServiceContainer, file: string): Command {
  return withStdinFrom(file, [...target.exec, "pg_restore", "--list"]);
}

/** Size in bytes, then sha256sum's line; parse with parseFileFacts. */
export function fileFacts(file: string): Command {
  return { argv: ["sh", "-c", 'set -e\nstat -c %s -- "$1"\nsha256sum -- "$1"', "shipyard-file-facts", file] };
}

export function parseFileFacts(stdout: string): { sizeBytes: number; sha256: string } {
  const [size, sum] = stdout.trim().split("\n");
  const sizeBytes = Number(size);
  const sha256 = sum?.split(/\s+/)[0] ?? "";
  if (!Number.isSafeInteger(sizeBytes) || !/^[0-9a-f]{64}$/.test(sha256))
    throw new Error(`stat and sha256sum reported no size and checksum: ${JSON.stringify(stdout)}`);
  return { sizeBytes, sha256 };
}

export const moveFile = (from: string, to: string): Command => ({ argv: ["mv", "-T", "--", from, to] });

export const removeFiles = (files: readonly string[]): Command => ({ argv: ["rm", "-f", "--", ...files] });

export const catalogPath = (directory: string) => path.posix.join(directory, "catalog.json");
const lockPath = (directory: string) => path.posix.join(directory, "catalog.lock");

/** Exit 0 with nothing printed: no catalog yet, no backups. */
export function readServerCatalog(directory: string): Command {
  return {
    argv: ["sh", "-c", 'if [ -f "$1" ]; then cat -- "$1"; fi', "shipyard-catalog", catalogPath(directory)],
  };
}

// A unique temporary name, then rename: a reader sees the old catalog or the new one, and a write cut
// short (a full disk) leaves neither half a catalog nor its temporary file.
const WRITE = `set -e
umask 077
mkdir -p -- "$(dirname -- "$1")"
tmp="$1.$$.tmp"
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
mv -T -- "$tmp" "$1"`;

export function writeServerCatalog(directory: string, text: string): Command {
  return { argv: ["sh", "-c", WRITE, "shipyard-catalog", catalogPath(directory)], stdin: text };
}

/** The exit code that means another run holds the catalog's lock. */
export const CATALOG_LOCK_HELD = 3;

// mkdir is atomic: one run at a time reads, changes and writes the catalog. Any other failure shows mkdir's own.
const LOCK = `umask 077
mkdir -p -- "$(dirname -- "$1")"
if mkdir -- "$1" 2> /dev/null; then exit 0; fi
if [ -d "$1" ]; then exit ${CATALOG_LOCK_HELD}; fi
mkdir -- "$1"`;

export function lockServerCatalog(directory: string): Command {
  return {
    argv: ["sh", "-c", LOCK, "shipyard-catalog-lock", lockPath(directory)],
    okExitCodes: [CATALOG_LOCK_HELD],
  };
}

export function unlockServerCatalog(directory: string): Command {
  return { argv: ["rmdir", "--", lockPath(directory)] };
}

export const serverLockPath = lockPath;
