/** The deploy CLI as an operator runs it: a real process, `node --import tsx deploy/src/cli.ts …`. */
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const CLI_ENTRY = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

export interface CliRun {
  /** The environments file, passed as --config after the arguments. */
  config?: string;
  /** Variables for the CLI, added to this process's unless `extendEnv` is false. */
  env?: Record<string, string>;
  extendEnv?: boolean;
  cwd?: string;
}

/** Never rejects: tests read the exit code, stdout (the summary or --json) and stderr (progress). */
export function runCli(args: readonly string[], { config, env, extendEnv, cwd }: CliRun = {}) {
  return execa("node", ["--import", "tsx", CLI_ENTRY, ...args, ...(config ? [`--config=${config}`] : [])], {
    reject: false,
    // A test's SIGTERM stays a SIGTERM (execa would follow it with SIGKILL after 5 s).
    forceKillAfterDelay: false,
    ...(env ? { env } : {}),
    ...(extendEnv === undefined ? {} : { extendEnv }),
    ...(cwd ? { cwd } : {}),
  });
}
