/** Docker Swarm commands, as data: a stack deployed from its stack file, and how a service's update went. */
import { stringify } from "yaml";
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";
import { compose, releaseVars } from "./compose.js";

/**
 * compose.yaml as compose renders it for a release: variables filled in from compose/.env (secrets among
 * them, so the output goes to `docker stack deploy` on stdin and nowhere else), paths made absolute.
 */
export const renderCompose = (env: Environment, image: string, release: string): Command =>
  compose(env, ["config"], releaseVars(env, image, release));

/** The stack file on stdin: never written to disk, as it holds the rendered secrets. */
export function stackDeploy(stack: string, stackFile: Record<string, unknown>): Command {
  return {
    argv: ["docker", "stack", "deploy", "--with-registry-auth", "--compose-file", "-", stack],
    stdin: stringify(stackFile),
  };
}

export const stackRemove = (stack: string): Command => ({ argv: ["docker", "stack", "rm", stack] });

/** A service's last update, as `docker service inspect` has it: `null` for a service never updated. */
export const updateStatus = (service: string): Command => ({
  argv: ["docker", "service", "inspect", "--format", "{{json .UpdateStatus}}", service],
});

/** Where an update stands: Swarm's own states (updating, completed, paused, rollback_started, rollback_completed…). */
export interface UpdateStatus {
  state: string;
  message: string;
}

export function parseUpdateStatus(stdout: string): UpdateStatus | null {
  const status = JSON.parse(stdout.trim() || "null") as { State?: string; Message?: string } | null;
  return status?.State ? { state: status.State, message: status.Message ?? "" } : null;
}

/** Whether Swarm is done with an update: it completed, or it rolled back (or paused, which waits for a person). */
export const updateSettled = (status: UpdateStatus | null): boolean =>
  status === null || ["completed", "paused", "rollback_completed", "rollback_paused"].includes(status.state);
