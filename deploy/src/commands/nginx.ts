/**
 * nginx commands a release runs, as data. The switch follows nginx/README.md: rewrite
 * conf.d/upstream.conf by rename, `nginx -t`, then SIGHUP (nginx is PID 1), all through compose.
 */
import path from "node:path";
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";
import { compose } from "./compose.js";

/** The shape nginx/conf.d/upstream.conf keeps; `server` is a container name on the frontend network. */
export function upstreamConf(server: string, port = 3000): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(server))
    throw new Error(`not a container name: ${JSON.stringify(server)}`);
  return [
    "# Written by shipyard at each release; see nginx/README.md. nginx resolves the name at reload.",
    "upstream app {",
    `  server ${server}:${port} max_fails=3 fail_timeout=10s;`,
    "  keepalive 32;",
    "}",
    "",
  ].join("\n");
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
