/**
 * The one place commands are executed: locally, or on the environment's host over SSH.
 * Everything else builds commands as data and hands them here.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import path from "node:path";
import { execa } from "execa";
import pLimit from "p-limit";
import type { Argv, Command } from "./commands/argv.js";
import { knownHostsLine, sshArgv, sshCloseArgv, sshMasterArgv } from "./commands/ssh.js";
import type { Environment, SshTarget } from "./config/environments.js";
import { followPosition } from "./file-position.js";
import { UsageError } from "./mistakes.js";
import { ownedTempDir } from "./owned-temp-dir.js";

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What a caller follows while a command runs, for the progress it shows; the result is the same without it. */
export interface Watch {
  /** The size of each chunk as the command's output streams into `stdoutFile`, or else `stdinFile` into it. */
  streamed?: (bytes: number) => void;
  /**
   * How far the command has got in a file it opens itself (pg_dump --file, pg_restore FILE), sampled
   * while it runs: nothing of that file passes through this process to be counted. This machine's
   * commands only (an SSH runner's process is ssh), and only where /proc shows it (Linux).
   */
  position?: { file: string; at: (bytes: number) => void };
  /** Each line of its output as it prints it (docker pull's own progress). */
  line?: (line: string) => void;
}

/** How a command run for the operator (attach) is connected to this process. */
export interface Attachment {
  /** Stdin and stdout are a terminal, and the command gets one (ssh -tt over SSH): it is interactive. */
  terminal: boolean;
  /** It reads this process's stdin (exec: `… | shipyard exec -- psql`); otherwise it reads none (logs). */
  input: boolean;
}

export interface Runner {
  /** Where commands run, for messages: "local" or "deploy@host:22". */
  readonly where: string;
  run(command: Command, watch?: Watch): Promise<RunResult>;
  /**
   * Runs `command` for the operator: its output goes straight to this process's stdout and stderr as it
   * comes, and it runs as long as it runs (no timeout: `logs --follow`, an interactive psql). Resolves to
   * its exit code, or 128 + the signal's number when a signal ended it.
   */
  attach(command: Command, attachment: Attachment): Promise<number>;
  close(): Promise<void>;
}

export class CommandFailed extends Error {
  override name = "CommandFailed";
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    where: string,
  ) {
    const tail = stderr.trim().split("\n").slice(-5).join("\n");
    super(
      `\`${argv.join(" ")}\` failed on ${where} (exit ${exitCode ?? "signal"})${tail ? `:\n${tail}` : ""}`,
    );
  }
}

/** Passes each chunk on unchanged, counting it on the way. */
const counting = (count: (bytes: number) => void) => ({
  *transform(chunk: unknown) {
    count((chunk as Uint8Array).length);
    yield chunk;
  },
  binary: true,
});

/** Passes each line on unchanged (newline included), showing it on the way. */
const showing = (show: (line: string) => void) => ({
  *transform(line: unknown) {
    show(String(line));
    yield line;
  },
  preserveNewlines: true,
});

/** stdin and stdout as the command and the watch ask: from and to files, counted or shown on the way. */
function streams(command: Command, watch: Watch | undefined) {
  const count = watch?.streamed ? [counting(watch.streamed)] : [];
  // One stream is counted: the output, when there is a file for both.
  const stdin = command.stdinFile
    ? { stdin: [{ file: command.stdinFile }, ...(command.stdoutFile ? [] : count)] }
    : { input: command.stdin, stdin: command.stdin === undefined ? ("ignore" as const) : undefined };
  // Not kept in memory as well: a dump can be gigabytes, and nothing reads a file command's stdout.
  if (command.stdoutFile)
    return { ...stdin, stdout: [...count, { file: command.stdoutFile }], buffer: { stdout: false } };
  return watch?.line ? { ...stdin, stdout: [showing(watch.line), "pipe" as const] } : stdin;
}

async function execute(
  argv: readonly string[],
  command: Command,
  where: string,
  timeoutSeconds: number,
  watch?: Watch,
): Promise<RunResult> {
  const [file, ...args] = argv as [string, ...string[]];
  const subprocess = execa(file, args, {
    reject: false,
    env: command.env,
    ...streams(command, watch),
    timeout: timeoutSeconds * 1000,
    stripFinalNewline: false,
  });
  const following =
    watch?.position && subprocess.pid !== undefined
      ? followPosition(subprocess.pid, watch.position.file, watch.position.at)
      : undefined;
  const result = await subprocess.finally(() => following?.stop());
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !(command.okExitCodes ?? []).includes(exitCode)) {
    throw new CommandFailed(
      command.argv,
      result.exitCode,
      result.timedOut ? `timed out after ${timeoutSeconds} s` : String(result.stderr),
      where,
    );
  }
  return { exitCode, stdout: String(result.stdout ?? ""), stderr: String(result.stderr) };
}

/**
 * The command with this process's streams, until it ends. A SIGINT or SIGTERM this process gets meanwhile
 * is passed on to it (a terminal's Ctrl-C already reaches it: same process group), and this process waits
 * for it to end instead of dying first, so the runner still closes its connection and the CLI exits
 * with the command's code. On a terminal given to the command, Ctrl-C is the command's: ssh -tt and
 * `compose exec` put the terminal in raw mode and send it on as a keystroke.
 */
async function attachTo(
  argv: Argv,
  command: Command,
  attachment: Attachment,
  where: string,
): Promise<number> {
  const [file, ...args] = argv as [string, ...string[]];
  const subprocess = execa(file, args, {
    reject: false,
    env: command.env,
    stdin: attachment.input ? "inherit" : "ignore",
    stdout: "inherit",
    stderr: "inherit",
  });
  let received: NodeJS.Signals | undefined;
  const passOn = (signal: NodeJS.Signals) => {
    received ??= signal;
    subprocess.kill(signal);
  };
  process.on("SIGINT", passOn);
  process.on("SIGTERM", passOn);
  try {
    const result = await subprocess;
    // Ended by a signal, whether it died of it or exited its own way (ssh exits 255 on SIGINT).
    const signal = received ?? result.signal;
    if (signal) return 128 + (constants.signals[signal] ?? 0);
    // Not started at all (no such program): the CLI's failure, not the command's answer.
    if (result.exitCode === undefined)
      throw new CommandFailed(command.argv, undefined, result.originalMessage ?? "it did not start", where);
    return result.exitCode;
  } finally {
    process.off("SIGINT", passOn);
    process.off("SIGTERM", passOn);
  }
}

export function localRunner(timeoutSeconds: number): Runner {
  return {
    where: "local",
    run: (command, watch) => execute(command.argv, command, "local", timeoutSeconds, watch),
    attach: (command, attachment) => attachTo(command.argv, command, attachment, "local"),
    close: async () => {},
  };
}

/** Closes the SSH master listening in `dir`, if any; synchronous, so it can run as the process exits. */
function closeMaster(dir: string): void {
  spawnSync("ssh", ["-o", `ControlPath=${path.join(dir, "master.sock")}`, "-O", "exit", "shipyard"], {
    stdio: "ignore",
    timeout: 5_000,
  });
}

/**
 * Commands in flight at once on the one SSH connection. sshd refuses sessions past its MaxSessions (10 by
 * default) on a connection; ssh then falls back to new connections, which MaxStartups starts dropping. So a
 * burst (backups, ledger appends) queues here instead, however slow each command is on the server.
 */
export const SSH_SESSIONS_PER_CONNECTION = 8;

/**
 * The private key comes from SHIPYARD_SSH_KEY (its text, as CI secrets usually are) or
 * SHIPYARD_SSH_KEY_FILE (a path); either way ssh reads it from a file, never from argv.
 */
export async function sshRunner(
  target: SshTarget,
  env: NodeJS.ProcessEnv,
  timeoutSeconds: number,
): Promise<Runner> {
  // A killed CLI's master is closed by the next run that reaps its directory.
  const session = await ownedTempDir("shipyard-ssh-", closeMaster);
  const dir = session.path;
  const knownHostsFile = path.join(dir, "known_hosts");
  await writeFile(knownHostsFile, knownHostsLine(target), { mode: 0o600 });
  let identityFile = env.SHIPYARD_SSH_KEY_FILE;
  if (env.SHIPYARD_SSH_KEY) {
    identityFile = path.join(dir, `id-${randomBytes(4).toString("hex")}`);
    const key = env.SHIPYARD_SSH_KEY.endsWith("\n") ? env.SHIPYARD_SSH_KEY : `${env.SHIPYARD_SSH_KEY}\n`;
    await writeFile(identityFile, key, { mode: 0o600 });
    await chmod(identityFile, 0o600);
  }
  if (!identityFile) {
    session.remove();
    // The operator's to set, before anything is tried: a mistake (exit 2), like a missing database URL.
    throw new UsageError(
      `no SSH key for ${target.user}@${target.host}: set SHIPYARD_SSH_KEY (the private key) or SHIPYARD_SSH_KEY_FILE (its path)`,
    );
  }
  const files = { knownHostsFile, identityFile, controlPath: path.join(dir, "master.sock") };
  const where = sshWhere(target);
  const close = async () => {
    await execa(sshCloseArgv(target, files)[0], sshCloseArgv(target, files).slice(1), {
      reject: false,
      stdin: "ignore",
    });
    session.remove();
  };
  try {
    // Doubles as the reachability check: a wrong host key or a refused key fails here, before any step.
    await execute(sshMasterArgv(target, files), { argv: ["ssh", `${where}`] }, where, 30);
  } catch (error) {
    await close();
    throw error;
  }
  const sessions = pLimit(SSH_SESSIONS_PER_CONNECTION);
  const refuseEnv = (command: Command) => {
    if (command.env) {
      throw new Error(
        `refusing to run \`${command.argv[0]}\` over SSH with environment variables: they cannot be passed without showing them in the remote argv`,
      );
    }
  };
  return {
    where,
    async run(command, watch) {
      refuseEnv(command);
      // The command's timeout starts when it gets a session, not while it waits for one.
      return sessions(() =>
        execute(sshArgv(target, files, command.argv), command, where, timeoutSeconds, watch),
      );
    },
    // Without a terminal, a signal ends the local ssh and the connection's session with it; the remote
    // command then ends when it next writes to the closed session (logs --follow: its next line).
    async attach(command, attachment) {
      refuseEnv(command);
      const argv = sshArgv(target, files, command.argv, { terminal: attachment.terminal });
      return attachTo(argv, command, attachment, where);
    },
    close,
  };
}

const sshWhere = (target: SshTarget) => `${target.user}@${target.host}:${target.port}`;

/**
 * For a plan made without reaching the host (deploy --dry-run): named as the host's runner would be, and
 * refusing to run anything, so a step that would need the host fails loudly instead of connecting.
 */
export function unreachedRunner(environment: Environment): Runner {
  const where = environment.target.kind === "local" ? "local" : sshWhere(environment.target);
  return {
    where,
    run: async (command) => {
      throw new Error(`a dry run reaches no host, but \`${command.argv.join(" ")}\` was asked of ${where}`);
    },
    attach: async (command) => {
      throw new Error(`a dry run reaches no host, but \`${command.argv.join(" ")}\` was asked of ${where}`);
    },
    close: async () => {},
  };
}

export async function runnerFor(environment: Environment, env: NodeJS.ProcessEnv): Promise<Runner> {
  const timeout = environment.timeouts.commandSeconds;
  return environment.target.kind === "local"
    ? localRunner(timeout)
    : sshRunner(environment.target, env, timeout);
}
