/**
 * Docker, compose and nginx commands for a zero-downtime release, as data. The nginx switch follows
 * nginx/README.md: rewrite conf.d/upstream.conf by rename, `nginx -t`, then SIGHUP (nginx is PID 1).
 */
import path from "node:path";
import type { Environment } from "../config/environments.js";
import type { Argv, Command } from "./argv.js";

/** Values compose interpolates (image, release id): not secrets, so they may travel in argv via env(1). */
export function compose(
  env: Environment,
  args: readonly string[],
  vars: Record<string, string> = {},
): Command {
  const cli = env.compose.cli === "docker compose" ? ["docker", "compose"] : ["docker-compose"];
  const assignments = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
  const argv: Argv = [
    "env",
    ...assignments,
    ...(cli as [string, ...string[]]),
    "--project-name",
    env.compose.project,
    "--project-directory",
    env.compose.directory,
    ...args,
  ];
  return { argv };
}

export const pullImage = (image: string): Command => ({ argv: ["docker", "pull", image] });

export function imageVars(image: string, release: string): Record<string, string> {
  return { APP_IMAGE: image, RELEASE_ID: release };
}

export function runMigrations(env: Environment, image: string, release: string): Command {
  return compose(env, ["run", "--rm", "--no-deps", "migrate"], imageVars(image, release));
}

/** One more app container from the new image beside the running ones, which --no-recreate leaves alone. */
export function startBeside(env: Environment, image: string, release: string, running: number): Command {
  return compose(
    env,
    [
      "up",
      "--detach",
      "--no-deps",
      "--no-recreate",
      "--scale",
      `${env.compose.appService}=${running + 1}`,
      env.compose.appService,
    ],
    imageVars(image, release),
  );
}

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

const containerName = (name: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new Error(`not a container name: ${JSON.stringify(name)}`);
  return name;
};

/**
 * The shape nginx/conf.d/upstream.conf keeps; `server` is a container name on the frontend network.
 * `backups` are the previous release's containers during the watch window: nginx sends them a request
 * only when the new release fails it (proxy_next_upstream in snippets/proxy.conf retries an idempotent
 * request that met an error or a 5xx), so users keep their answers while the window decides.
 */
export function upstreamConf(server: string, backups: readonly string[] = [], port = 3000): string {
  return [
    "# Written by shipyard at each release; see nginx/README.md. nginx resolves the names at reload.",
    "upstream app {",
    `  server ${containerName(server)}:${port} max_fails=3 fail_timeout=10s;`,
    ...backups.map((b) => `  server ${containerName(b)}:${port} backup;`),
    "  keepalive 32;",
    "}",
    "",
  ].join("\n");
}

/**
 * Over nginx's JSON access log (nginx.conf): "<proxied> <failed>", the requests an upstream answered and
 * those whose first upstream answer was a 5xx ("500, 200" is one the new release failed and its backup
 * saved). Counted on the host, so only two numbers travel back.
 */
export const COUNT_EDGE_ANSWERS =
  '/"upstream_status":"[0-9]/ { n++ } /"upstream_status":"5/ { e++ } END { print n + 0, e + 0 }';

const EDGE_ANSWERS = `set -e
c=$(docker ps --quiet --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2" | head -n 1)
if [ -z "$c" ]; then echo "no running $2 container in project $1" >&2; exit 1; fi
docker logs --since "$3" "$c" 2>/dev/null | awk "$4"`;

/** "<proxied> <first answer 5xx>" over the last `sinceSeconds`, counted on the host. */
export function edgeAnswers(env: Environment, sinceSeconds: number): Command {
  return {
    argv: [
      "sh",
      "-c",
      EDGE_ANSWERS,
      "shipyard-edge-answers",
      env.compose.project,
      env.compose.nginxService,
      `${Math.max(1, Math.ceil(sinceSeconds))}s`,
      COUNT_EDGE_ANSWERS,
    ],
  };
}

// The temporary name does not end in .conf, so nginx never includes a half-written file.
const WRITE_UPSTREAM = `set -e
cat > "$1/.upstream.conf.new"
mv -T -- "$1/.upstream.conf.new" "$1/upstream.conf"`;

export function writeUpstream(env: Environment, content: string): Command {
  return {
    argv: ["sh", "-c", WRITE_UPSTREAM, "shipyard-upstream", env.compose.nginxConfDirectory],
    stdin: content,
  };
}

export const readUpstream = (env: Environment): Command => ({
  argv: ["cat", "--", path.posix.join(env.compose.nginxConfDirectory, "upstream.conf")],
});

export function testNginx(env: Environment): Command {
  return compose(env, [
    "exec",
    "-T",
    env.compose.nginxService,
    "nginx",
    "-p",
    "/tmp/",
    "-c",
    "/etc/nginx/nginx.conf",
    "-t",
  ]);
}

export function reloadNginx(env: Environment): Command {
  return compose(env, ["kill", "-s", "HUP", env.compose.nginxService]);
}

/**
 * The first release of a project: compose starts the app with everything it depends on, in the
 * order depends_on gives (data services healthy, migrations done), so a failing migration stops it.
 */
export function startStack(env: Environment, image: string, release: string): Command {
  return compose(env, ["up", "--detach", "--no-recreate", env.compose.appService], imageVars(image, release));
}

/** Starts nginx if it is not running (the first release); a running nginx is left as it is. */
export function ensureNginx(env: Environment): Command {
  return compose(env, ["up", "--detach", "--no-deps", "--no-recreate", env.compose.nginxService]);
}

export const dockerVersion = (): Command => ({
  argv: ["docker", "version", "--format", "{{.Server.Version}}"],
});

export const composeVersion = (env: Environment): Command => compose(env, ["version"]);

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
