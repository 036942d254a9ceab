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
 * `docker exec` of the app's own `migrate`, which applies what is pending under node-pg-migrate's lock and
 * does nothing else when nothing is. A `compose run` of the migrate service made a container for it, 6 to
 * 15 s on a busy host even with nothing pending.
 */
export const migrateIn = (id: string): Command => ({
  argv: ["docker", "exec", id, "node", "dist/cli.js", "migrate"],
});

/** `probeReady` exits so when /readyz did not answer 200 within its seconds; it prints the last answer. */
export const NOT_READY = 3;

// Node, as the image's healthcheck uses (slim images have no curl): asks /readyz ten times a second inside
// one process, so the deploy sees readiness within a tenth of a second, not at Docker's next health interval.
const PROBE_READY = `const [, url, seconds] = process.argv;
const until = Date.now() + Number(seconds) * 1000;
let last = "no answer";
(async () => {
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = \`\${r.status} \${(await r.text()).slice(0, 300)}\`;
      if (r.ok) process.exit(0);
    } catch (e) {
      last = String(e.cause?.code ?? e.message);
    }
    if (Date.now() > until) { console.log(last); process.exit(${NOT_READY}); }
    await new Promise((r) => setTimeout(r, 100));
  }
})();`;

/** Asks the container's /readyz (the healthcheck's question) until it answers 200, at most `seconds`. */
export const probeReady = (id: string, seconds: number, port = 3000): Command => ({
  argv: [
    "docker",
    "exec",
    id,
    "node",
    "-e",
    PROBE_READY,
    `http://127.0.0.1:${port}/readyz`,
    String(Math.max(1, Math.ceil(seconds))),
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
