/** wrk's argv and its report, as data: what the benchmark runs and what it reads back. */

export interface WrkOptions {
  readonly url: string;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly threads: number;
}

export function wrkArgv(options: WrkOptions): [string, string[]] {
  return [
    "wrk",
    [
      "--latency",
      `--duration=${options.durationSeconds}s`,
      `--connections=${options.connections}`,
      `--threads=${options.threads}`,
      `--timeout=5s`,
      options.url,
    ],
  ];
}

export interface WrkResult {
  readonly requestsPerSecond: number;
  /** Milliseconds at the 50th, 90th and 99th percentiles. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

function milliseconds(value: string, unit: string): number {
  const n = Number(value);
  if (unit === "us") return n / 1000;
  if (unit === "ms") return n;
  if (unit === "s") return n * 1000;
  if (unit === "m") return n * 60_000;
  throw new Error(`unknown wrk time unit "${unit}"`);
}

function percentile(output: string, p: number): number {
  const match = output.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
  if (!match?.[1] || !match[2])
    throw new Error(`wrk output has no ${p}% latency line (was --latency passed?)`);
  return milliseconds(match[1], match[2]);
}

export function parseWrk(output: string): WrkResult {
  const rps = output.match(/^Requests\/sec:\s+([\d.]+)/m)?.[1];
  const requests = output.match(/^\s+(\d+) requests in /m)?.[1];
  if (!rps || !requests) throw new Error(`not a wrk report:\n${output}`);
  const errors = output.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requestsPerSecond: Number(rps),
    p50: percentile(output, 50),
    p90: percentile(output, 90),
    p99: percentile(output, 99),
    requests: Number(requests),
    non2xx: Number(output.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}
