/** What a release on Swarm decides from what the manager says: pure, so each rule is tested on its own. */
import type { UpdateStatus } from "../commands/swarm.js";

/**
 * How long Swarm watches each new task for a failure it can see itself (a crash, a task Docker calls
 * unhealthy) before it moves on: enough for a release that dies at start-up. The watch window (what users
 * get through nginx, 5xx included) is the CLI's, after Swarm is done: Swarm's `monitor` cannot see a 5xx,
 * and Docker needs `interval` × `retries` (a minute with compose.yaml's timing) to call a task unhealthy.
 */
export const TASK_MONITOR_SECONDS = 10;

export const taskMonitorSeconds = (watchSeconds: number) => Math.min(watchSeconds, TASK_MONITOR_SECONDS);

/** `swarmState`'s "<LocalNodeState> <ControlAvailable>": anything but a manager is refused in one line. */
export function requireManager(stdout: string, where: string): void {
  const [state = "", control = ""] = stdout.trim().split(/\s+/);
  if (state === "active" && control === "true") return;
  if (state === "active")
    throw new Error(
      `${where} is a Swarm worker, not a manager: point target.host at a manager (docker node ls there lists them)`,
    );
  throw new Error(
    `${where} is not in a swarm (docker info: ${state || "no answer"}): run \`docker swarm init\` there, or point target.host at a manager`,
  );
}

/** The manager the CLI reaches must keep the data: backups run in Postgres's task there, and nginx's files live there. */
export function requireDataNode(labelValue: string, label: string, where: string): void {
  if (labelValue.trim() === "true") return;
  throw new Error(
    `${where} has no node label ${label}=true, so the stack would not place Postgres, Redis and nginx there: ` +
      `run \`docker node update --label-add ${label}=true $(docker node inspect self --format '{{.ID}}')\` on it`,
  );
}

/** Where Swarm stands with the update a deploy asked for, once it differs from the one before. */
export type UpdateOutcome = "waiting" | "completed" | "rolled back" | "paused";

/**
 * `before` is the update status read before `docker stack deploy`: until Swarm starts the new update the
 * status is still that one's, settled or not, and says nothing of this release.
 */
export function updateOutcome(status: UpdateStatus | null, before: UpdateStatus | null): UpdateOutcome {
  if (status === null || (before !== null && status.startedAt === before.startedAt)) return "waiting";
  switch (status.state) {
    case "completed":
      return "completed";
    case "rollback_completed":
      return "rolled back";
    case "paused":
    case "rollback_paused":
      return "paused";
    default:
      return "waiting";
  }
}

/** A rollback the CLI asked for (`docker service rollback`) has ended, one way or the other. */
export function rollbackOutcome(status: UpdateStatus | null): "waiting" | "rolled back" | "paused" {
  if (status?.state === "rollback_completed") return "rolled back";
  if (status?.state === "rollback_paused" || status?.state === "paused") return "paused";
  return "waiting";
}

/**
 * A bound on Swarm's update, not a measurement: each task in turn gets the health timeout, and the last
 * one Swarm's monitor on top; a rollback may need as long again.
 */
export const updateDeadlineSeconds = (replicas: number, healthSeconds: number, monitorSeconds: number) =>
  (replicas + 1) * healthSeconds + monitorSeconds;
