/** compose commands a release runs, as data: the project's invocation, the stack, the app beside the old one. */
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

/**
 * What compose.yaml interpolates for a release: the image, the release id, and the app's port and migrate
 * command from the environment's `app` (compose splits a string `command:` into words as a shell would).
 */
export function releaseVars(env: Environment, image: string, release: string): Record<string, string> {
  return {
    APP_IMAGE: image,
    RELEASE_ID: release,
    APP_PORT: String(env.app.port),
    APP_MIGRATE_COMMAND: env.app.migrate.map(shellWord).join(" "),
  };
}

/** One word as compose's shell-like splitting reads it back: quoted unless it is plainly safe. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
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
    releaseVars(env, image, release),
  );
}

/**
 * The first release of a project: compose starts the app with everything it depends on, in the
 * order depends_on gives (data services healthy, migrations done), so a failing migration stops it.
 */
export function startStack(env: Environment, image: string, release: string): Command {
  return compose(
    env,
    ["up", "--detach", "--no-recreate", env.compose.appService],
    releaseVars(env, image, release),
  );
}

export const composeVersion = (env: Environment): Command => compose(env, ["version"]);

/** Checks compose.yaml with compose/.env: every variable it requires is set (prints nothing, secrets included). */
export const checkComposeConfig = (env: Environment): Command => compose(env, ["config", "--quiet"]);
