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
