/**
 * The `local` environment from Dagger. The deployer container cannot be the machine `local` means: its
 * 127.0.0.1 is not the host's, and compose bind mounts, nginx's conf.d, the lock, the ledger and the
 * backups must be the host's files. So the deployer hands its own image to the host's engine (through
 * the Docker socket) and runs the CLI there, beside the stack: host network, the checkout mounted at its
 * host path, that path as working directory. Plain data; deploy/bin/run-on-host.sh does the loading, and
 * the host-side stack tests run these very commands on a real engine.
 */
import { z } from "zod";

/** The deployer image as the host's engine knows it; one tag, replaced on every run. */
export const HOST_DEPLOYER_TAG = "shipyard-deployer:current";
/** Where the launcher finds the deployer image (a tarball) and the loading script. */
export const DEPLOYER_TARBALL_PATH = "/run/shipyard/deployer.tar";
export const RUN_ON_HOST_SCRIPT = "deploy/bin/run-on-host.sh";

/** An absolute host path Docker can mount as it is (`-v PATH:PATH`): no `:` or `,`, and not `/` itself. */
export const hostPathSchema = z
  .string()
  .trim()
  .regex(
    /^\/[^:,\n]*[^/:,\n]$/,
    "must be the checkout's absolute path on the host, without ':' or ',' — pass --host-path=$PWD",
  );

export interface HostRun {
  /** The checkout's path on the host. */
  hostPath: string;
  /** The Docker socket's path on the host (rootless Docker and Docker Desktop keep it elsewhere). */
  dockerSocket: string;
  /** Where the deployer image has the repository (its working directory in Dagger). */
  workdir: string;
  /** The CLI's arguments: `backup --env=local --json`. */
  cliArgs: readonly string[];
  /** Variables handed on by name only (`--env NAME`), so their values never appear in an argv. */
  forward: readonly string[];
  /** Plain variables, set with their value. */
  variables: Readonly<Record<string, string>>;
  /** A file for the CLI (restore's dump): streamed in on stdin and written under the host path first. */
  stage?: { from: string; to: string };
}

/**
 * The CLI of the image, run from the host path: `npm run` would move to the image's /src, and the host's own
 * node_modules may be built for another OS, so node loads the image's tsx and cli.ts by absolute path.
 */
function cliArgv(run: HostRun): string[] {
  return [
    "node",
    `--import=${run.workdir}/node_modules/tsx/dist/loader.mjs`,
    `${run.workdir}/deploy/src/cli.ts`,
    ...run.cliArgs,
  ];
}

/** Writes stdin to the staged path (0600), runs the CLI, and removes the staged copy whatever happened. */
const STAGE_SCRIPT =
  'umask 077 && mkdir -p "$(dirname "$1")" && cat >"$1" || exit 70; staged=$1; shift; "$@"; status=$?; rm -f "$staged"; exit $status';

/** The launcher's argv: load and tag the image, then `docker run` the CLI on the host's network. */
export function hostRunArgv(run: HostRun): string[] {
  const inner = run.stage ? ["sh", "-c", STAGE_SCRIPT, "stage", run.stage.to, ...cliArgv(run)] : cliArgv(run);
  return [
    "sh",
    `${run.workdir}/${RUN_ON_HOST_SCRIPT}`,
    DEPLOYER_TARBALL_PATH,
    HOST_DEPLOYER_TAG,
    ...(run.stage ? ["--stdin", run.stage.from] : []),
    "docker",
    "run",
    "--rm",
    ...(run.stage ? ["--interactive"] : []),
    "--network=host",
    // Inside, at the path the client looks at by default; outside, wherever this host keeps it.
    `--volume=${run.dockerSocket}:/var/run/docker.sock`,
    `--volume=${run.hostPath}:${run.hostPath}`,
    `--workdir=${run.hostPath}`,
    ...Object.entries(run.variables).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
    ...run.forward.flatMap((name) => ["--env", name]),
    HOST_DEPLOYER_TAG,
    ...inner,
  ];
}

/** Reads a file the CLI left on the host (a backup), through the image already loaded there. */
export function hostFileArgv(hostPath: string, file: string): string[] {
  return ["docker", "run", "--rm", `--volume=${hostPath}:${hostPath}:ro`, HOST_DEPLOYER_TAG, "cat", file];
}
