/** Docker Swarm commands, as data: a stack deployed from its stack file, and how a service's update went. */
import { stringify } from "yaml";
import type { Environment } from "../config/environments.js";
import { placeholderSecrets, STACK_LABEL, type SwarmSecret, VARIABLE_LABEL } from "../swarm/secrets.js";
import type { Argv, Command } from "./argv.js";
import { compose, releaseVars } from "./compose.js";
import type { ServiceContainer } from "./postgres.js";

/**
 * compose.yaml as compose renders it for a release, with a placeholder for each secret setting: the
 * secrets are the swarm's (swarm/secrets.ts), and compose/.env on the manager holds none.
 */
export const renderCompose = (env: Environment, image: string, release: string): Command =>
  compose(env, ["config"], { ...releaseVars(env, image, release), ...placeholderSecrets() });

/** What setup checks on Swarm: compose.yaml renders as a deploy renders it. */
export const checkStackRenders = (env: Environment): Command => ({
  argv: [...renderCompose(env, "setup", "setup").argv, "--quiet"],
});

// Each line of stdin (NAME=value) becomes a variable of the command it runs: values never in an argv.
const WITH_STDIN_VARIABLES = `while IFS= read -r assignment; do export "$assignment"; done
exec "$@"`;

/**
 * compose.yaml rendered with the secret settings' real values (setup, once, to make the swarm's secrets),
 * given on stdin; its output holds them, so it goes nowhere but into `docker secret create`.
 */
export function renderWithSecrets(env: Environment, values: Readonly<Record<string, string>>): Command {
  const { argv } = compose(env, ["config"], releaseVars(env, "setup", "setup"));
  return {
    argv: ["sh", "-c", WITH_STDIN_VARIABLES, "shipyard-render", ...argv],
    stdin: Object.entries(values)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(""),
  };
}

/** The stack file on stdin: it names the swarm's secrets and holds none. */
export function stackDeploy(stack: string, stackFile: Record<string, unknown>): Command {
  return {
    argv: ["docker", "stack", "deploy", "--with-registry-auth", "--compose-file", "-", stack],
    stdin: stringify(stackFile),
  };
}

export const stackRemove = (stack: string): Command => ({ argv: ["docker", "stack", "rm", stack] });

/** "<LocalNodeState> <ControlAvailable>": "active true" on a manager; parsed by swarmRole. */
export const swarmState = (): Command => ({
  argv: ["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"],
});

/** The value of `label` on the node the runner reaches ("" when it has none). */
export const ownNodeLabel = (label: string): Command => ({
  argv: ["docker", "node", "inspect", "self", "--format", `{{index .Spec.Labels "${label}"}}`],
});

/** The stack's services, one name a line (none: the stack was never deployed here). */
export const stackServices = (stack: string): Command => ({
  argv: ["docker", "service", "ls", "--quiet", "--filter", `label=com.docker.stack.namespace=${stack}`],
});

/** The stack's volumes on this node, one name a line: Swarm labels them, and keeps them when services go. */
export const stackVolumes = (stack: string): Command => ({
  argv: ["docker", "volume", "ls", "--quiet", "--filter", `label=com.docker.stack.namespace=${stack}`],
});

// A Swarm secret cannot change: one that exists under this name (which carries its value's digest) is it.
// Labelled with its stack and variable, not as the stack's: `docker stack rm` keeps it, as it keeps the volumes.
const CREATE_SECRET = `docker secret inspect "$1" >/dev/null 2>&1 && exit 0
exec docker secret create --label "${STACK_LABEL}=$2" --label "${VARIABLE_LABEL}=$3" "$1" - >/dev/null`;

/** Creates the secret unless it exists; its value goes on stdin, never in an argv or a file. */
export const createSecret = (stack: string, secret: SwarmSecret): Command => ({
  argv: ["sh", "-c", CREATE_SECRET, "shipyard-secret", secret.name, stack, secret.variable],
  stdin: secret.value,
});

const STACK_SECRETS_INSPECTED = `ids=$(docker secret ls --quiet --filter "label=${STACK_LABEL}=$1")
if [ -z "$ids" ]; then echo "[]"; else exec docker secret inspect $ids; fi`;

/** The stack's secrets as `docker secret inspect` has them (names, labels, when made; never a value). */
export const stackSecrets = (stack: string): Command => ({
  argv: ["sh", "-c", STACK_SECRETS_INSPECTED, "shipyard-secrets", stack],
});

/** Why the service's stopped tasks stopped, one line each, newest first ("" for a task stopped on purpose). */
export const taskErrors = (service: string): Command => ({
  argv: [
    "docker",
    "service",
    "ps",
    "--no-trunc",
    "--filter",
    "desired-state=shutdown",
    "--format",
    "{{.Error}}",
    service,
  ],
});

/** Swarm's own rollback of a service to the spec before its last update; returns at once (updateStatus follows it). */
export const serviceRollback = (service: string): Command => ({
  argv: ["docker", "service", "rollback", "--detach", "--quiet", service],
});

/** The image a service's spec names (exit 1: no such service). */
export const serviceImage = (service: string): Command => ({
  argv: ["docker", "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", service],
  okExitCodes: [1],
});

/** A service's last update, as `docker service inspect` has it: `null` for a service never updated. */
export const updateStatus = (service: string): Command => ({
  argv: ["docker", "service", "inspect", "--format", "{{json .UpdateStatus}}", service],
});

/** Where an update stands: Swarm's own states (updating, completed, paused, rollback_started, rollback_completed…). */
export interface UpdateStatus {
  state: string;
  message: string;
  /** When Swarm began it: tells this update from the one before. */
  startedAt: string;
}

export function parseUpdateStatus(stdout: string): UpdateStatus | null {
  const status = JSON.parse(stdout.trim() || "null") as {
    State?: string;
    Message?: string;
    StartedAt?: string;
  } | null;
  return status?.State
    ? { state: status.State, message: status.Message ?? "", startedAt: status.StartedAt ?? "" }
    : null;
}

/** Whether Swarm is done with an update: it completed, or it rolled back (or paused, which waits for a person). */
export const updateSettled = (status: UpdateStatus | null): boolean =>
  status === null || ["completed", "paused", "rollback_completed", "rollback_paused"].includes(status.state);

/** A stack's service as Swarm names it; its tasks carry it as the label com.docker.swarm.service.name. */
export const stackService = (stack: string, service: string) => `${stack}_${service}`;

/** The running containers of a stack's service on this node, newest first. */
const runningTasks = (name: string): Argv => [
  "docker",
  "ps",
  "--quiet",
  "--filter",
  `label=com.docker.swarm.service.name=${name}`,
  "--filter",
  "status=running",
];

const TASK_EXEC = `service=$1
shift
id=$(docker ps --quiet --filter "label=com.docker.swarm.service.name=$service" --filter status=running | head -n 1)
if [ -z "$id" ]; then
  echo "no running task of $service on this node (the manager the CLI reaches); an app task may run on another node only" >&2
  exit 1
fi
exec docker exec $SHIPYARD_EXEC_FLAGS "$id" "$@"`;

/**
 * A stack service's task on the node the runner reaches (the data node, where Postgres is placed): found
 * by its label when the command runs, as Swarm names a task's container after its task id.
 */
export function stackServiceContainer(
  stack: string,
  service: string,
  { terminal = false }: { terminal?: boolean } = {},
): ServiceContainer {
  const name = stackService(stack, service);
  return {
    // stdin attached; a terminal too when someone is there (a psql prompt).
    exec: [
      "env",
      `SHIPYARD_EXEC_FLAGS=${terminal ? "-it" : "-i"}`,
      "sh",
      "-c",
      TASK_EXEC,
      "shipyard-task-exec",
      name,
    ],
    id: [...runningTasks(name), "--latest"],
    service: name,
  };
}
