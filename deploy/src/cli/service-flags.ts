/**
 * The flags of `logs` and `exec`, judged before anything runs: which service (one of the stack's four, with
 * the nearest when mistyped), from when (`--since`, in a form compose takes, and only where compose has
 * it), how many lines (`--tail`), and flags that cannot go together. Each mistake is one UsageError line.
 */
import { type LogsRequest, SERVICES, type Service } from "../commands/running-service.js";
import type { Environment } from "../config/environments.js";
import { UsageError } from "../mistakes.js";
import { didYouMean } from "../suggest.js";
import type { Options } from "./args.js";

/** How many of the last lines `logs` shows when not told: a screenful, or a few before following. */
export const DEFAULT_TAIL = { once: "100", following: "10" } as const;

const isService = (name: string): name is Service => (SERVICES as readonly string[]).includes(name);

export function serviceOption(options: Options): Service {
  const name = options.service ?? "app";
  if (isService(name)) return name;
  throw new UsageError(
    `unknown service "${name}" for --service; valid services: ${SERVICES.join(", ")}${didYouMean(name, SERVICES)}`,
  );
}

/** Go durations as Docker reads them, whole units only: 90s, 10m, 1h30m. */
const DURATION = /^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/;
/** RFC 3339 with seconds and a zone: the host's clock zone may not be the operator's, so none is assumed. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function sinceOption(options: Options, env: Environment): string | undefined {
  const since = options.since;
  if (since === undefined) return undefined;
  const days = /^(\d+)d$/.exec(since)?.[1];
  if (days !== undefined)
    throw new UsageError(`--since counts hours, not days: --since=${Number(days) * 24}h (got ${since})`);
  const valid = DURATION.test(since) || (TIMESTAMP.test(since) && !Number.isNaN(Date.parse(since)));
  if (!valid)
    throw new UsageError(
      `--since must be a duration (10m, 1h30m) or an RFC 3339 timestamp with its zone (2026-11-23T10:00:00Z), got "${since}"`,
    );
  if (env.compose.cli === "docker-compose")
    throw new UsageError(
      `--since needs compose v2: environment "${env.name}" uses docker-compose (v1), whose logs has no --since; use --tail=N`,
    );
  return since;
}

function tailOption(options: Options, since: string | undefined): string | undefined {
  const tail = options.tail;
  if (tail === undefined) {
    // --since bounds the lines already; otherwise a screenful, not the container's whole history.
    if (since) return undefined;
    return options.follow ? DEFAULT_TAIL.following : DEFAULT_TAIL.once;
  }
  if (tail === "all" || /^\d+$/.test(tail)) return tail;
  throw new UsageError(`--tail must be a number of lines (0 or more) or "all", got "${tail}"`);
}

/** What `logs` was asked for, checked. */
export function logsRequest(options: Options, env: Environment): LogsRequest {
  if (options.follow && options.json)
    throw new UsageError(
      "--follow streams lines as they come and --json prints one envelope at the end: give one of them",
    );
  const service = serviceOption(options);
  const since = sinceOption(options, env);
  const tail = tailOption(options, since);
  return {
    service,
    follow: options.follow,
    ...(since ? { since } : {}),
    ...(tail ? { tail } : {}),
  };
}
