/**
 * What one run of a command works with: the environment, its options, the progress lines, who acts, and
 * the runners. Each runner is opened once, when a command first needs it, and closed once when the
 * command ends (closeContext), so no command opens or closes a connection of its own.
 */
import os from "node:os";
import type { Environment } from "../config/environments.js";
import type { Progress } from "../progress.js";
import { localRunner, type Runner, runnerFor } from "../runner.js";
import type { Options } from "./args.js";

export interface CliContext {
  readonly environment: Environment;
  readonly options: Options;
  /** The word after the command (`lock status`, `lock break`). */
  readonly subcommand: string | undefined;
  /** The words after `--`, passed on as typed (exec's command); empty when there were none. */
  readonly passed: readonly string[];
  readonly progress: Progress;
  /** Whether stdin and stdout are a terminal: someone is there (logs and exec hand theirs on). */
  readonly terminal: { readonly input: boolean; readonly output: boolean };
  /** Recorded as the lock's holder and in the ledger. */
  readonly who: string;
  /** Runs the tools that run where the CLI runs (pg_dump by URL, age, tar). */
  readonly local: Runner;
  /** The environment's host (over SSH, or this machine for a local environment); opened on first use. */
  host(): Promise<Runner>;
}

interface OpenContext extends CliContext {
  close(): Promise<void>;
}

const who = () => process.env.SHIPYARD_WHO ?? `${os.userInfo().username}@${os.hostname()}`;

export function openContext(
  environment: Environment,
  options: Options,
  words: { subcommand: string | undefined; passed: readonly string[] },
  progress: Progress,
): OpenContext {
  let host: Promise<Runner> | undefined;
  return {
    environment,
    options,
    ...words,
    progress,
    terminal: { input: Boolean(process.stdin.isTTY), output: Boolean(process.stdout.isTTY) },
    who: who(),
    local: localRunner(environment.timeouts.commandSeconds),
    host() {
      host ??= runnerFor(environment, process.env);
      return host;
    },
    async close() {
      // A host that failed to open has nothing to close: runnerFor cleans up after itself.
      const opened = await host?.catch(() => undefined);
      await opened?.close();
    },
  };
}

/** Runs `work` with the context open, and closes every runner it opened whatever `work` does. */
export async function withContext<T>(
  environment: Environment,
  options: Options,
  words: { subcommand: string | undefined; passed: readonly string[] },
  progress: Progress,
  work: (ctx: CliContext) => Promise<T>,
): Promise<T> {
  const ctx = openContext(environment, options, words, progress);
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}
