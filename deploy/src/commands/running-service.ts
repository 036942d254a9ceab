/**
 * What the operator asks of the stack's running services, as data: their logs (`compose logs`) and a
 * command in one of their containers (`compose exec`), through the same compose invocation a release uses;
 * on a swarm, `docker service logs` (every node's tasks, read through the manager) and `docker exec` in the
 * service's task on the manager.
 */
import type { Environment } from "../config/environments.js";
import type { Command } from "./argv.js";
import { compose } from "./compose.js";
import { stackService, stackServiceContainer } from "./swarm.js";

/** The services an operator names: the stack's four, by their role (compose.yaml may name them otherwise). */
export const SERVICES = ["app", "nginx", "postgres", "redis"] as const;
export type Service = (typeof SERVICES)[number];

/** The compose service that plays `role` in the environment's stack. */
export function composeService(env: Environment, role: Service): string {
  switch (role) {
    case "app":
      return env.compose.appService;
    case "nginx":
      return env.compose.nginxService;
    case "postgres":
      return env.database.service ?? "postgres";
    case "redis":
      return "redis";
  }
}

export interface LogsRequest {
  service: Service;
  follow: boolean;
  /** A duration (`10m`, `1h30m`) or an RFC 3339 timestamp, as compose's --since takes them. */
  since?: string;
  /** How many of the last lines ("all": every one); unset: every line since `since`, or compose's default. */
  tail?: string;
}

/**
 * The service's log lines as its containers wrote them, without compose's `app-1 |` prefix: the app's
 * lines are JSON (they name their release and host), and stay readable by jq.
 */
export function serviceLogs(env: Environment, request: LogsRequest): Command {
  const options = [
    ...(request.follow ? ["--follow"] : []),
    ...(request.since ? [`--since=${request.since}`] : []),
    ...(request.tail ? [`--tail=${request.tail}`] : []),
  ];
  const service = composeService(env, request.service);
  if (env.target.kind === "swarm")
    // --raw: the lines alone, without the task and node in front.
    return {
      argv: ["docker", "service", "logs", "--raw", ...options, stackService(env.compose.project, service)],
    };
  return compose(env, ["logs", "--no-log-prefix", ...options, service]);
}

/**
 * `argv` in the service's running container. `terminal`: compose gives it one (interactive: a psql prompt);
 * otherwise -T, so it runs in scripts and CI, its output piped like any command's.
 */
export function execInService(
  env: Environment,
  service: Service,
  argv: readonly string[],
  { terminal }: { terminal: boolean },
): Command {
  if (env.target.kind === "swarm") {
    // The service's task on the manager the CLI reaches: the data services always run there.
    const task = stackServiceContainer(env.compose.project, composeService(env, service), { terminal });
    return { argv: [...task.exec, ...argv] };
  }
  return compose(env, ["exec", ...(terminal ? [] : ["-T"]), composeService(env, service), ...argv]);
}
