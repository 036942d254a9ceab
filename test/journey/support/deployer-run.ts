/**
 * One `dagger call <command> --env=…` as the module runs it, without the engine: the wiring the module
 * computes (dagger/src/lib/deployer.ts: argv, variables, secret variables, the key and the restore file)
 * applied to a container of the deployer image, which is removed after the call with everything the CLI
 * wrote, as a CI runner's work directory is. The answer is read by the module's own reader.
 *
 * What stands in for the engine: the container runs on the host's network (the engine's network reaches a
 * server's public address; here the server is 127.0.0.1), a secret variable is passed by name from this
 * process's environment (never on a command line), and the key is a bind-mounted file that is root's and
 * 0600, as Dagger mounts a secret.
 */
import { randomBytes } from "node:crypto";
import { chmod, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import {
  accessInput,
  backupFilePath,
  type DeployerCommand,
  type DeployerOutcome,
  DOCKER_SOCKET_PATH,
  deployerOutcome,
  deployerWiring,
  FETCHED_BACKUP_PATH,
  RESTORE_FILE_PATH,
  SSH_KEY_PATH,
} from "../../../dagger/src/lib/deployer.js";
import type { EnvironmentFacts } from "../../../dagger/src/lib/environments.js";

export interface DeployerCall {
  /** The deployer image (buildDeployerImage). */
  image: string;
  /** `--env`, and what the module read of that environment from the source's environments file. */
  env: string;
  facts: EnvironmentFacts;
  /** The command and its own flags. */
  command: DeployerCommand;
  /** `--ssh-key`'s value: the private key's text. */
  sshKey: string;
  /** restore's --file: a file on this machine. */
  restoreFile?: string;
  /** A scratch directory of the test's, for the key file and what the call hands back. */
  scratch: string;
}

export interface DeployerAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
  outcome: DeployerOutcome;
  /** backup: the verified file the module returns (its copy fetched into the deployer), copied here. */
  file?: string;
}

/** Runs one call; `argv` as given to the container is returned too, so a test can check no secret is in it. */
export async function callDeployer(call: DeployerCall): Promise<DeployerAnswer & { argv: string[] }> {
  const run = randomBytes(4).toString("hex");
  // As `dagger call <command> --env=… --ssh-key=…` gives them: a key, and nothing else.
  const access = accessInput(call.facts, {
    env: call.env,
    sshKey: call.sshKey,
    dockerSocketPath: DOCKER_SOCKET_PATH,
    hostPath: "",
  });
  const wiring = deployerWiring({ ...access, ...call.command, runId: run });
  if (wiring.onHost || wiring.mountDockerSocket || wiring.scratchPostgres)
    throw new Error(
      "the journey runs an SSH environment whose server checks its backups: no socket, no scratch",
    );
  if (Object.keys(wiring.secretVariables).length > 0)
    throw new Error(
      `no secret variable is given in the journey, but the wiring asks for ${Object.keys(wiring.secretVariables)}`,
    );

  const name = `shipyard-deployer-${run}`;
  const keyFile = path.join(call.scratch, `ssh-key-${run}`);
  const argv = [
    "create",
    `--name=${name}`,
    "--network=host",
    ...Object.entries(wiring.variables).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
    "--env",
    `SHIPYARD_RUN=${new Date().toISOString()}-${run}`,
  ];
  if (wiring.mountSshKey) {
    await writeFile(keyFile, call.sshKey, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    argv.push("--mount", `type=bind,src=${keyFile},dst=${SSH_KEY_PATH},readonly`);
  }
  if (wiring.mountRestoreFile) {
    if (!call.restoreFile) throw new Error("the wiring mounts a restore file, but none was given");
    argv.push("--mount", `type=bind,src=${path.resolve(call.restoreFile)},dst=${RESTORE_FILE_PATH},readonly`);
  }
  argv.push(call.image, ...wiring.argv);

  try {
    await execa("docker", argv);
    const started = await execa("docker", ["start", "--attach", name], { reject: false });
    const exitCode = started.exitCode ?? -1;
    const answer: DeployerAnswer = {
      exitCode,
      stdout: started.stdout,
      stderr: started.stderr,
      outcome: deployerOutcome(exitCode, started.stdout, started.stderr),
    };
    if (call.command.command === "backup" && answer.outcome.ok) {
      // The file the module returns, chosen as it chooses it.
      const inside = backupFilePath(answer.outcome.result, call.facts);
      if (inside !== FETCHED_BACKUP_PATH)
        throw new Error(`the backup's answer names ${inside}, not the fetched copy`);
      const file = path.join(call.scratch, `backup-${run}.dump`);
      await execa("docker", ["cp", `${name}:${inside}`, file]);
      answer.file = file;
    }
    return { ...answer, argv };
  } finally {
    await execa("docker", ["rm", "--force", "--volumes", name], { reject: false });
    await rm(keyFile, { force: true });
  }
}
