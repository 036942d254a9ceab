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
  /** Its stdin (default: none). */
  input?: string;
}

/** `args` with --config=`config` after the CLI's flags: before a `--`, after which words are exec's command. */
function withConfig(args: readonly string[], config: string | undefined): string[] {
  if (!config) return [...args];
  const dashes = args.indexOf("--");
  const end = dashes === -1 ? args.length : dashes;
  return [...args.slice(0, end), `--config=${config}`, ...args.slice(end)];
}

/** Never rejects: tests read the exit code, stdout (the summary or --json) and stderr (progress). */
export function runCli(args: readonly string[], { config, env, extendEnv, cwd, input }: CliRun = {}) {
  return execa("node", ["--import", "tsx", CLI_ENTRY, ...withConfig(args, config)], {
    reject: false,
    // A test's SIGTERM stays a SIGTERM (execa would follow it with SIGKILL after 5 s).
    forceKillAfterDelay: false,
    ...(env ? { env } : {}),
    ...(extendEnv === undefined ? {} : { extendEnv }),
    ...(cwd ? { cwd } : {}),
    ...(input === undefined ? {} : { input }),
  });
}

/**
 * The CLI's main() in this process, for tests of what it refuses (no process start: milliseconds, not
 * seconds): what it writes to stdout and stderr, and the exit code it returns. `env` is set for the run
 * and put back after; runs must not overlap (they share process.env and the streams).
 */
export async function runMain(
  args: readonly string[],
  { config, env = {} }: { config?: string; env?: Record<string, string> } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { main } = await import("../../src/cli/main.js");
  const written = { stdout: "", stderr: "" };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const writes = (["stdout", "stderr"] as const).map((stream) => {
    const original = process[stream].write;
    process[stream].write = ((chunk: string | Uint8Array) => {
      written[stream] += String(chunk);
      return true;
    }) as typeof original;
    return () => {
      process[stream].write = original;
    };
  });
  Object.assign(process.env, env);
  try {
    const exitCode = await main(withConfig(args, config));
    return { exitCode, ...written };
  } finally {
    for (const restore of writes) restore();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
