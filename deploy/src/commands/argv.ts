/** A command as data: a program and its arguments, never a shell string. */
export type Argv = readonly [file: string, ...args: string[]];

/** What one step runs. Secrets travel in `env` or `stdin`, never in `argv` (which `ps` shows). */
export interface Command {
  argv: Argv;
  /** Extra environment for a local command (e.g. PGPASSWORD); refused over SSH, where it cannot be passed safely. */
  env?: Readonly<Record<string, string>>;
  stdin?: string;
  /** Stream this local file to stdin (a dump being restored). */
  stdinFile?: string;
  /** Write stdout straight to this local file (a dump can be gigabytes, and binary). */
  stdoutFile?: string;
  /** Exit codes that are answers, not failures (e.g. "lock already held"). */
  okExitCodes?: readonly number[];
}

/**
 * POSIX single-quoting: ssh hands its command to the remote user's shell as one string, so each
 * argument is quoted to arrive there byte for byte.
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
