/**
 * nginx commands a release runs, as data. The switch follows nginx/README.md: rewrite
 * conf.d/upstream.conf by rename, `nginx -t`, then SIGHUP (nginx is PID 1), each one `docker exec` into the
 * nginx container; compose only starts nginx when none runs.
 */
import path from "node:path";
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";
import { compose } from "./compose.js";
import { listServiceContainers } from "./docker.js";
import { stackService } from "./swarm.js";

const containerName = (name: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new Error(`not a container name: ${JSON.stringify(name)}`);
  return name;
};

/**
 * What the site (conf.d/shipyard.conf) proxies to: `proxy_pass http://$shipyard_upstream`, a variable the
 * upstream file defines. On one server it names the `app` group (keepalive, backups); on Swarm a DNS name
 * that nginx resolves as it goes (swarmUpstreamConf), which a fixed group could not follow.
 */
export function upstreamSelector(target: string): string {
  return `map $host $shipyard_upstream {\n  default ${target};\n}\n`;
}

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
    upstreamSelector("app"),
  ].join("\n");
}

/**
 * The upstream file on Swarm: every running task of `service`, by Docker's DNS (`tasks.NAME`, the
 * stack's services run with endpoint_mode dnsrr). nginx asks again after a second, so a rolling update's
 * new tasks get requests and stopped ones stop getting them without a reload; a request that meets a task
 * not listening (yet, or any more) goes to the next address (proxy_next_upstream in snippets/proxy.conf).
 */
export function swarmUpstreamConf(service: string, port: number): string {
  return [
    "# Written by shipyard for a Swarm stack; see docs/swarm.md. nginx resolves the name as it goes.",
    "resolver 127.0.0.11 valid=1s ipv6=off;",
    upstreamSelector(`tasks.${containerName(service)}:${port}`),
  ].join("\n");
}

/**
 * Over nginx's JSON access log (nginx.conf): "<proxied> <failed>", the requests an upstream answered and
 * those whose first upstream answer was a 5xx ("500, 200" is one the new release failed and its backup
 * saved). Counted on the host, so only two numbers travel back.
 */
export const COUNT_EDGE_ANSWERS =
  '/"upstream_status":"[0-9]/ { n++ } /"upstream_status":"5/ { e++ } END { print n + 0, e + 0 }';

/**
 * The two label filters that find the running nginx container: compose's labels on one server, Swarm's on
 * a swarm's data node (where the stack places nginx, and the CLI's runner is).
 */
function nginxLabels(env: Environment): [string, string] {
  const { project, nginxService } = env.compose;
  return env.target.kind === "swarm"
    ? [
        `label=com.docker.stack.namespace=${project}`,
        `label=com.docker.swarm.service.name=${stackService(project, nginxService)}`,
      ]
    : [`label=com.docker.compose.project=${project}`, `label=com.docker.compose.service=${nginxService}`];
}

const EDGE_ANSWERS = `set -e
c=$(docker ps --quiet --filter "$1" --filter "$2" | head -n 1)
if [ -z "$c" ]; then echo "no running nginx container ($1, $2)" >&2; exit 1; fi
docker logs --since "$3" "$c" 2>/dev/null | awk "$4"`;

/** "<proxied> <first answer 5xx>" over the last `sinceSeconds`, counted on the host. */
export function edgeAnswers(env: Environment, sinceSeconds: number): Command {
  return {
    argv: [
      "sh",
      "-c",
      EDGE_ANSWERS,
      "shipyard-edge-answers",
      ...nginxLabels(env),
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

/**
 * A command inside the nginx container, by the id the release found once (`findNginx`): one `docker exec`,
 * not a docker-compose v1 call, whose Python start-up alone takes seconds on a busy host. `null`: the id is
 * not known (the undo of a run killed before it recorded one), so the command finds the running container.
 */
function inNginx(env: Environment, nginx: string | null, args: readonly string[]): Command {
  if (nginx !== null) return { argv: ["docker", "exec", nginx, ...args] };
  return {
    argv: ["sh", "-c", IN_RUNNING_SERVICE, "shipyard-in-nginx", ...nginxLabels(env), ...args],
  };
}

const IN_RUNNING_SERVICE = `c=$(docker ps --quiet --no-trunc --filter "$1" --filter "$2" | head -n 1)
if [ -z "$c" ]; then echo "no running nginx container ($1, $2)" >&2; exit 1; fi
shift 2
exec docker exec "$c" "$@"`;

/** nginx's containers of the project, one JSON object a line: the release takes the running one's id. */
export function findNginx(env: Environment): Command {
  return listServiceContainers(env, env.compose.nginxService);
}

export function testNginx(env: Environment, nginx: string | null): Command {
  return inNginx(env, nginx, ["nginx", "-p", "/tmp/", "-c", "/etc/nginx/nginx.conf", "-t"]);
}

// nginx is PID 1 of its container (compose.yaml starts it without an init). The workers it runs now are
// the ones the reload retires: their PIDs, printed first, are what `drainNginx` waits for.
const RELOAD = `for d in /proc/[0-9]*; do
  grep -qsa "^nginx: worker process" "$d/cmdline" && echo "\${d#/proc/}"
done
kill -HUP 1`;

/** SIGHUP to nginx: new workers load the configuration; prints the PIDs of the old ones, which finish their requests. */
export function reloadNginx(env: Environment, nginx: string | null): Command {
  return inNginx(env, nginx, ["sh", "-c", RELOAD, "shipyard-reload"]);
}

/** From `reloadNginx`: the PIDs of the workers it retired. */
export function retiredWorkers(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => /^\d+$/.test(l.trim()))
    .map((l) => l.trim());
}

/** `drainNginx` exits so when workers still run at its bound: a long request, not a failure of the release. */
export const STILL_DRAINING = 3;

// An old worker exits once the requests it holds are answered (its idle keep-alive connections it closes):
// waiting for that, and no longer, replaces a fixed sleep. Ten looks a second, up to the bound.
const DRAIN = `looks=$(( $1 * 10 ))
shift
while [ "$looks" -gt 0 ]; do
  left=0
  for p in "$@"; do grep -qsa "^nginx: worker process" "/proc/$p/cmdline" && left=$((left + 1)); done
  [ "$left" -eq 0 ] && exit 0
  looks=$((looks - 1))
  sleep 0.1
done
echo "$left"
exit ${STILL_DRAINING}`;

/** Waits until nginx's retired workers (`reloadNginx`'s PIDs) have exited, at most `maxSeconds`. */
export function drainNginx(
  env: Environment,
  nginx: string | null,
  workers: readonly string[],
  maxSeconds: number,
): Command {
  const bound = String(Math.max(1, Math.ceil(maxSeconds)));
  return {
    ...inNginx(env, nginx, ["sh", "-c", DRAIN, "shipyard-drain", bound, ...workers]),
    okExitCodes: [STILL_DRAINING],
  };
}

/** Starts nginx if it is not running (the first release); a running nginx is left as it is. */
export function ensureNginx(env: Environment): Command {
  return compose(env, ["up", "--detach", "--no-deps", "--no-recreate", env.compose.nginxService]);
}
