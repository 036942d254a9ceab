/** docker commands a release runs, as data: pull, list the app's containers, their health, stop and remove. */
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";

export const pullImage = (image: string): Command => ({ argv: ["docker", "pull", image] });

/** One JSON object per container of the app service (compose labels every container it makes). */
export function listAppContainers(env: Environment): Command {
  return {
    argv: [
      "docker",
      "ps",
      "--all",
      "--no-trunc",
      "--filter",
      `label=com.docker.compose.project=${env.compose.project}`,
      "--filter",
      `label=com.docker.compose.service=${env.compose.appService}`,
      "--format",
      "{{json .}}",
    ],
  };
}

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
