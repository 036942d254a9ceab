/**
 * The release's compose and nginx configuration, shipped to the host as one tar stream: which files of
 * the repository make it up, and the tar commands that snapshot what the host has, put the new files in
 * place, and put the old ones back. Plain data; deploy.ts runs them.
 */
import path from "node:path";
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";

/** nginx's upstream names the serving container: the deploy owns it, so the bundle only seeds a fresh host. */
export const UPSTREAM_FILE = "nginx/conf.d/upstream.conf";

/**
 * What the stack needs from the repository on the host, as compose.yaml mounts it (`../nginx/…`,
 * `./monitoring/…`). Never secrets: compose/.env and the certificates are the host's own.
 */
const BUNDLE: readonly RegExp[] = [
  /^compose\/compose\.yaml$/,
  /^compose\/monitoring\/.+/,
  /^nginx\/nginx\.conf$/,
  /^nginx\/ffdhe2048\.pem$/,
  /^nginx\/conf\.d\/[^/]+\.conf$/,
  /^nginx\/snippets\/.+/,
  /^nginx\/html\/.+/,
];

/**
 * The host's own, never shipped: what its backups write for node-exporter (backup-time.ts). A checkout
 * whose local environment backs up has such files too; shipped, they would overwrite the host's.
 */
const HOST_WRITTEN = /^compose\/monitoring\/textfile\/(?!README\.md$)/;

/** The bundle's files among `files` (paths relative to the repository, `/`-separated), sorted. */
export function configBundle(files: readonly string[]): string[] {
  return files
    .filter((file) => BUNDLE.some((pattern) => pattern.test(file)) && !HOST_WRITTEN.test(file))
    .sort();
}

/** The directory holding compose/ and nginx/ on the host: compose.yaml mounts ../nginx from beside itself. */
export function configBase(env: Environment): string {
  const base = path.posix.dirname(env.compose.directory);
  const expected = path.posix.join(base, "nginx", "conf.d");
  if (path.posix.normalize(env.compose.nginxConfDirectory) !== expected)
    throw new Error(
      `compose.nginxConfDirectory is ${env.compose.nginxConfDirectory}, but compose.yaml mounts ../nginx from ` +
        `${env.compose.directory}, i.e. ${expected}: make them agree before a deploy ships the configuration`,
    );
  return base;
}

/** Where the host keeps what a release's configuration replaced, until the release is known good. */
export const configSnapshot = (env: Environment, release: string) =>
  path.posix.join(env.stateDirectory, `config-before-${release}.tar`);

/** The local tar stream of the bundle, made from the repository. */
export function packBundle(source: string, files: readonly string[], tarFile: string): Command {
  return { argv: ["tar", "--create", "--file", tarFile, "--directory", source, "--", ...files] };
}

/** What the host has of the bundle's files now; files it does not have yet are skipped, not errors. */
export function snapshotConfig(base: string, files: readonly string[], snapshot: string): Command {
  return {
    argv: [
      "tar",
      "--create",
      "--file",
      snapshot,
      "--directory",
      base,
      "--ignore-failed-read",
      "--warning=no-failed-read",
      "--",
      ...files,
    ],
  };
}

export const listArchive = (archive: string): Command => ({ argv: ["tar", "--list", "--file", archive] });

/** The local bundle streamed to the host's tar on stdin; files owned by whoever the host runs it as. */
function extractBundle(base: string, tarFile: string, options: readonly string[]): Command {
  return {
    argv: ["tar", "--extract", "--file", "-", "--directory", base, ...options],
    stdinFile: tarFile,
  };
}

/**
 * Writes the files over the old ones in place (--overwrite): compose bind-mounts single files such as
 * nginx.conf, and a replaced file (a new inode) would never reach the running container. The upstream
 * stays the host's.
 */
export const unpackBundle = (base: string, tarFile: string): Command =>
  extractBundle(base, tarFile, ["--overwrite", "--no-same-owner", `--exclude=${UPSTREAM_FILE}`]);

/** The repository's upstream.conf, only where the host has none yet (a first deploy). */
export const seedUpstream = (base: string, tarFile: string): Command =>
  extractBundle(base, tarFile, ["--skip-old-files", "--no-same-owner", UPSTREAM_FILE]);

/** Puts the snapshot's files back, in place like unpackBundle. */
export function restoreConfig(base: string, snapshot: string): Command {
  return {
    argv: ["tar", "--extract", "--file", snapshot, "--directory", base, "--overwrite", "--no-same-owner"],
  };
}

/** Removes files the release added (they were not in the snapshot), e.g. a new conf.d/*.conf nginx would load. */
export function removeConfigFiles(base: string, files: readonly string[]): Command {
  return { argv: ["rm", "-f", "--", ...files.map((file) => path.posix.join(base, file))] };
}

export const removeSnapshot = (snapshot: string): Command => ({ argv: ["rm", "-f", "--", snapshot] });

/** A repository's configuration to ship: where it is, and which of its files (configBundle). */
export interface ConfigShipment {
  source: string;
  files: readonly string[];
}

/**
 * Every command that ships a configuration, in order: what a deploy runs and its --dry-run prints. The
 * snapshot leaves the upstream out, as the upload does.
 */
export function shipCommands(env: Environment, release: string, shipment: ConfigShipment, bundle: string) {
  const base = configBase(env);
  const kept = shipment.files.filter((file) => file !== UPSTREAM_FILE);
  const snapshot = configSnapshot(env, release);
  return {
    base,
    kept,
    snapshot,
    pack: packBundle(shipment.source, shipment.files, bundle),
    snapshotHost: snapshotConfig(base, kept, snapshot),
    unpack: unpackBundle(base, bundle),
    seed: shipment.files.includes(UPSTREAM_FILE) ? seedUpstream(base, bundle) : null,
  };
}

/** The bundle's files the snapshot does not hold: the ones this release adds (never the upstream). */
export function addedFiles(bundle: readonly string[], snapshotListing: string): string[] {
  const had = new Set(snapshotListing.split("\n").filter(Boolean));
  return bundle.filter((file) => file !== UPSTREAM_FILE && !had.has(file));
}
