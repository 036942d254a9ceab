/**
 * promtool (Prometheus' checker) for the tests that judge metric names and alert rules. Never a skip when it
 * is missing: CI installs it (ci/install-host-deps.sh), and a check that silently does not run checks nothing.
 */
import { execa } from "execa";

const INSTALL_HINT =
  "promtool is not installed: run ci/install-host-deps.sh, or `apt-get install -y prometheus` (Debian's " +
  "prometheus package ships promtool)";

export interface PromtoolResult {
  exitCode: number;
  /** stdout and stderr together, as promtool prints its findings on either. */
  output: string;
}

/** Runs `promtool ...args`, with `stdin` when given; throws only when promtool is not there. */
export async function promtool(args: readonly string[], options: { cwd?: string; stdin?: string } = {}) {
  const result = await execa("promtool", args, {
    reject: false,
    all: true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.stdin !== undefined ? { input: options.stdin } : {}),
  });
  if ((result as { code?: string }).code === "ENOENT") throw new Error(INSTALL_HINT);
  return { exitCode: result.exitCode ?? -1, output: result.all ?? "" } satisfies PromtoolResult;
}
