/**
 * A real OpenSSH server on 127.0.0.1 for the tests: generated host and client keys, key-only login,
 * gone after stop(). It runs as the current user's target (root in CI), like a deploy user would.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { freePort, waitUntil } from "../../../test/harness/network.js";
import { stopProcess } from "../../../test/harness/process.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import type { Environment } from "../../src/config/environments.js";

type SshTarget = Extract<Environment["target"], { kind: "ssh" }>;

export interface TestSshServer {
  target: SshTarget;
  /** Path of the client's private key (mode 0600). */
  clientKeyFile: string;
  dir: string;
  stop(): Promise<void>;
}

export interface SshServerOptions {
  /**
   * Sessions get a HOME of their own (the server's scratch directory) instead of the login files of the
   * user running the tests, as a dedicated deploy user has. On our machines root's .bashrc costs about a
   * second per command; the SSH integration tests keep it, to prove they do not depend on speed, and the
   * deploy end-to-end tests, which run hundreds of commands to test deploys, skip it.
   */
  readonly ownHome?: boolean;
  /** The engine the sessions' docker and compose talk to (default: the tests' own, DOCKER_HOST). */
  readonly dockerHost?: string;
  /** The sessions' PATH instead of sshd's default: a stand-in `docker` first (support/fake-docker.ts). */
  readonly path?: string;
}

export async function startSshServer(options: SshServerOptions = {}): Promise<TestSshServer> {
  const dir = await makeScratchDir("sshd");
  const hostKey = path.join(dir, "host_ed25519");
  const clientKey = path.join(dir, "client_ed25519");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", hostKey]);
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "shipyard-test", "-f", clientKey]);
  await writeFile(path.join(dir, "authorized_keys"), await readFile(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const sessionEnv = [
    ...(options.ownHome ? [`HOME=${dir}`] : []),
    ...(options.path ? [`PATH=${options.path}`] : []),
    // Sessions see the engine the tests run against, as a server's own login sees its Docker.
    ...((options.dockerHost ?? process.env.DOCKER_HOST)
      ? [`DOCKER_HOST=${options.dockerHost ?? process.env.DOCKER_HOST}`]
      : []),
  ];
  const config = path.join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      `PidFile ${path.join(dir, "sshd.pid")}`,
      // The keys live under /tmp, which is world-writable (sticky), and StrictModes rejects any such
      // parent directory; the files themselves are 0600 in a 0700 directory.
      "StrictModes no",
      // One line: sshd takes the first SetEnv and ignores the rest.
      ...(sessionEnv.length > 0 ? [`SetEnv ${sessionEnv.join(" ")}`] : []),
      "",
    ].join("\n"),
  );
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
  // Dies with the test runner even if the runner is killed (parent-death signal).
  const server: ResultPromise = execa(
    "setpriv",
    ["--pdeathsig=TERM", "--", "/usr/sbin/sshd", "-D", "-e", "-f", config],
    {
      stdio: "ignore",
      reject: false,
      cleanup: false,
    },
  );
  const [type, key] = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(" ");
  const target: SshTarget = {
    kind: "ssh",
    host: "127.0.0.1",
    port,
    user: os.userInfo().username,
    hostKey: `${type} ${key}`,
  };
  try {
    await waitUntil(
      "sshd",
      async () =>
        (
          await execa("ssh-keyscan", ["-p", String(port), "-T", "1", "127.0.0.1"], { reject: false })
        ).stdout.includes(key ?? "?"),
      15_000,
    );
  } catch (error) {
    await stopProcess(server, "SIGTERM");
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    target,
    clientKeyFile: clientKey,
    dir,
    async stop() {
      await stopProcess(server, "SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
