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
}

export function sshArgv(target: SshTarget, files: SshFiles, remote: Argv): Argv {
  return [
    "ssh",
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
    "-p",
    String(target.port),
    "-l",
    target.user,
    target.host,
    "--",
    shellJoin(remote),
  ];
}
