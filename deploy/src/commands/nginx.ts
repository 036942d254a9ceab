/**
 * nginx commands a release runs, as data. The switch follows nginx/README.md: rewrite
 * conf.d/upstream.conf by rename, `nginx -t`, then SIGHUP (nginx is PID 1), all through compose.
 */
import path from "node:path";
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";
import { compose } from "./compose.js";

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

/** Starts nginx if it is not running (the first release); a running nginx is left as it is. */
export function ensureNginx(env: Environment): Command {
  return compose(env, ["up", "--detach", "--no-deps", "--no-recreate", env.compose.nginxService]);
}
