/** ssh wrapping: host key pinned, no prompts, only the key we were given. */
import type { SshTarget } from "../config/environments.js";
import { type Argv, shellJoin } from "./argv.js";

/** One known_hosts line; ssh writes non-default ports as `[host]:port`. */
export function knownHostsLine(target: SshTarget): string {
  const name = target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
  return `${name} ${target.hostKey}\n`;
}

export interface SshFiles {
  knownHostsFile: string;
  identityFile: string;
  /** Socket of the runner's one master connection; every command rides on it (see sshMasterArgv). */
  controlPath: string;
}

function options(target: SshTarget, files: SshFiles): string[] {
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${files.knownHostsFile}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ServerAliveInterval=15",
    "-i",
    files.identityFile,
    "-o",
    `ControlPath=${files.controlPath}`,
    "-p",
    String(target.port),
    "-l",
    target.user,
  ];
}

/**
 * Opens the master connection and leaves it running in the background (ControlPersist), so later
 * commands skip the handshake and a burst of them does not trip the server's MaxStartups limit. The CLI
 * closes it on exit; bounded, it also ends by itself a minute after its last command if the CLI was
 * killed (and the next run reaps it sooner). Past that, commands connect on their own: slower, not broken.
 */
export const MASTER_IDLE_SECONDS = 60;

export function sshMasterArgv(target: SshTarget, files: SshFiles): Argv {
  return [
    "ssh",
    ...options(target, files),
    "-o",
    "ControlMaster=yes",
    "-o",
    `ControlPersist=${MASTER_IDLE_SECONDS}`,
    target.host,
    "--",
    "true",
  ];
}

/**
 * One command on the host, over the master connection. `terminal`: the remote command gets a terminal
 * (-tt: forced, since the local one is handed over), so it is interactive and ends with the session (the
 * terminal's hang-up); ssh's "Connection … closed." line is left out.
 */
export function sshArgv(
  target: SshTarget,
  files: SshFiles,
  remote: Argv,
  { terminal = false }: { terminal?: boolean } = {},
): Argv {
  return [
    "ssh",
    ...options(target, files),
    "-o",
    "ControlMaster=no",
    ...(terminal ? ["-tt", "-o", "LogLevel=ERROR"] : []),
    target.host,
    "--",
    shellJoin(remote),
  ];
}

export function sshCloseArgv(target: SshTarget, files: SshFiles): Argv {
  return ["ssh", "-o", `ControlPath=${files.controlPath}`, "-O", "exit", target.host];
}
