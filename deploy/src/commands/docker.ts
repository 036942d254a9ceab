/** docker commands a release runs, as data: pull, list the app's containers, their health, stop and remove. */
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";

export const pullImage = (image: string): Command => ({ argv: ["docker", "pull", image] });

/** One JSON object per container of a compose service of the project (compose labels every container it makes). */
export function listServiceContainers(env: Environment, service: string): Command {
  return {
    argv: [
      "docker",
      "ps",
      "--all",
      "--no-trunc",
      "--filter",
      `label=com.docker.compose.project=${env.compose.project}`,
      "--filter",
      `label=com.docker.compose.service=${service}`,
      "--format",
      "{{json .}}",
    ],
  };
}

export const listAppContainers = (env: Environment): Command =>
  listServiceContainers(env, env.compose.appService);

/** The project's volumes, one name a line: compose labels each, and keeps them (its data) when the containers go. */
export function listProjectVolumes(env: Environment): Command {
  return {
    argv: [
      "docker",
      "volume",
      "ls",
      "--quiet",
      "--filter",
      `label=com.docker.compose.project=${env.compose.project}`,
    ],
  };
}

/** "<status> <health>", e.g. "running healthy" or "restarting none"; parsed by release/decisions.ts. */
export const containerHealth = (id: string): Command => ({
  argv: [
    "docker",
    "inspect",
    "--format",
    "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
    id,
  ],
});

/**
 * The release's migrations, applied from inside its new container (started beside, not yet serving): a
 * `docker exec` of the app's own migrate command (`app.migrate`), which applies what is pending under its
 * tool's lock and does nothing else when nothing is. A `compose run` of the migrate service made a
 * container for it, 6 to 15 s on a busy host even with nothing pending.
 */
export const migrateIn = (id: string, migrate: readonly string[]): Command => ({
  argv: ["docker", "exec", id, ...migrate],
});

/** The healthcheck Docker runs in the container (the image's, or compose's override), as JSON. */
export const containerHealthcheck = (id: string): Command => ({
  argv: ["docker", "inspect", "--format", "{{json .Config.Healthcheck}}", id],
});

/** `probeReady` exits so when the healthcheck did not pass within its seconds; it prints the check's last words. */
export const NOT_READY = 3;

// On the host, one command however slow its SSH: runs the container's own healthcheck five times a second
// until it passes, so the deploy sees readiness at once, not at Docker's next health interval (engines
// before 25 have no start_interval), and in any language: the check is the image's.
const PROBE_READY = `id=$1 seconds=$2
shift 2
end=$(( $(date +%s) + seconds ))
while :; do
  if last=$(timeout 10 docker exec "$id" "$@" 2>&1); then exit 0; fi
  if [ "$(date +%s)" -ge "$end" ]; then printf '%s\n' "$last" | tail -n 3 | cut -c 1-300; exit ${NOT_READY}; fi
  sleep 0.2
done`;

/** Runs the container's healthcheck (`check`, what follows `docker exec <id>`) until it passes, at most `seconds`. */
export const probeReady = (id: string, seconds: number, check: readonly string[]): Command => ({
  argv: ["sh", "-c", PROBE_READY, "shipyard-ready", id, String(Math.max(1, Math.ceil(seconds))), ...check],
});

export const stopContainer = (id: string, graceSeconds: number): Command => ({
  argv: ["docker", "stop", "--time", String(graceSeconds), id],
});

export const removeContainer = (id: string): Command => ({ argv: ["docker", "rm", id] });

export const dockerVersion = (): Command => ({
  argv: ["docker", "version", "--format", "{{.Server.Version}}"],
});

/** The disk the project (and Docker's images beside it) lives on: a pull must not fill it. */
export function diskFree(env: Environment): Command {
  return { argv: ["df", "--output=avail", "-B1", "--", env.compose.directory] };
}

// For the undo of a killed run, which may have got further than its journal says: a container already
// gone is what the undo wants, not a failure.
const IF_PRESENT = `id=$1 verb=$2
shift 2
docker ps --all --quiet --no-trunc --filter "id=$id" | xargs -r docker "$verb" "$@"`;

export const stopContainerIfPresent = (id: string, graceSeconds: number): Command => ({
  argv: ["sh", "-c", IF_PRESENT, "shipyard-if-present", id, "stop", "--time", String(graceSeconds)],
});

export const removeContainerIfPresent = (id: string): Command => ({
  argv: ["sh", "-c", IF_PRESENT, "shipyard-if-present", id, "rm"],
});
