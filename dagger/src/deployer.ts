/**
 * The deployer for one environment: the deploy CLI's container, given the access arguments every deploy
 * function shares (key or socket, database URL, off-site keys), checked once when it is opened, then run
 * for one CLI command. lib/deployer.ts decides the wiring; this file only applies it.
 */
import { posix } from "node:path";
import {
  type Container,
  dag,
  type File,
  ImageMediaTypes,
  ReturnType,
  type Secret,
  type Socket,
} from "@dagger.io/dagger";
import {
  accessInput,
  checkDeployerAccess,
  type DeployerAccessInput,
  type DeployerCommand,
  type DeployerOutcome,
  DOCKER_SOCKET_PATH,
  deployerOutcome,
  deployerWiring,
  RESTORE_FILE_PATH,
  SCRATCH_DATABASE,
  SCRATCH_POSTGRES_HOST,
  SSH_KEY_PATH,
  scratchDatabaseUrl,
} from "./lib/deployer.js";
import type { EnvironmentFacts } from "./lib/environments.js";
import { DEPLOYER_TARBALL_PATH, hostFileArgv } from "./lib/host-run.js";
import { generatedPassword, runId } from "./lib/run-secrets.js";
import { postgresService } from "./services.js";

/** The arguments of every function that acts on an environment, under the names `dagger call` gives them. */
export interface EnvironmentAccess {
  env: string;
  sshKey?: Secret;
  dockerSocket?: Socket;
  dockerSocketPath: string;
  hostPath: string;
  /** Absent from status, which takes no backup. */
  databaseUrl?: Secret;
  s3AccessKeyId?: Secret;
  s3SecretAccessKey?: Secret;
  /** Only deploy, backup and rollback take it: the commands that notify. */
  webhookUrl?: Secret;
  /** Only setup takes it: the admin token it uses rather than a fresh one. */
  adminToken?: Secret;
}

/** One finished CLI run: its container (to read files from) and its --json answer. */
export interface DeployerRun {
  container: Container;
  outcome: DeployerOutcome;
  /** Set when the CLI ran on the host's engine (target.kind local): its files are the host's. */
  onHost?: { hostPath: string };
}

export interface Deployer {
  /** Runs the CLI once; fails with the CLI's own account of what happened. */
  run(command: DeployerCommand, restoreFile?: File): Promise<DeployerRun>;
  /** A file the run left behind (backup's dump), read from wherever the CLI ran. */
  file(run: DeployerRun, path: string): File;
}

export interface DeployerBase {
  /** The Node image with the CLI's tools and the source installed (index.ts builds it). */
  image: Container;
  /** The environment's entry, as lib/environments.ts read it. */
  environment: EnvironmentFacts;
  /** For the scratch server every backup is restored into and counted on. */
  postgresImage: string;
}

/** Checks the access arguments now (a deploy fails on them before it publishes) and returns the deployer. */
export function openDeployer(base: DeployerBase, access: EnvironmentAccess): Deployer {
  const input = accessInput(base.environment, access);
  checkDeployerAccess(input);
  return {
    run: (command, restoreFile) => runDeployer(base, access, { ...input, ...command }, restoreFile),
    file: (run, path) => {
      if (!run.onHost) return run.container.file(path);
      // The file is on the host (a backup in the environment's backup directory): read it through the image there.
      const copy = `/run/shipyard/${posix.basename(path)}`;
      return run.container
        .withExec(hostFileArgv(run.onHost.hostPath, path), { redirectStdout: copy })
        .file(copy);
    },
  };
}

async function runDeployer(
  base: DeployerBase,
  access: EnvironmentAccess,
  input: DeployerAccessInput & DeployerCommand,
  restoreFile: File | undefined,
): Promise<DeployerRun> {
  const run = runId();
  const wiring = deployerWiring({ ...input, runId: run });
  const secret = (name: string, value: string) => dag.setSecret(`${name}-${run}`, value);
  let deployer = Object.entries(wiring.variables).reduce(
    (container, [name, value]) => container.withEnvVariable(name, value),
    base.image,
  );
  if (wiring.mountSshKey && access.sshKey)
    deployer = deployer.withMountedSecret(SSH_KEY_PATH, access.sshKey, { owner: "root", mode: 0o600 });
  if (wiring.mountDockerSocket && access.dockerSocket)
    deployer = deployer.withUnixSocket(DOCKER_SOCKET_PATH, access.dockerSocket);
  const secrets: [string | undefined, Secret | undefined][] = [
    [wiring.secretVariables.databaseUrl, access.databaseUrl],
    [wiring.secretVariables.s3AccessKeyId, access.s3AccessKeyId],
    [wiring.secretVariables.s3SecretAccessKey, access.s3SecretAccessKey],
    [wiring.secretVariables.webhookUrl, access.webhookUrl],
    [wiring.secretVariables.adminToken, access.adminToken],
  ];
  for (const [name, value] of secrets) if (name && value) deployer = deployer.withSecretVariable(name, value);
  if (wiring.mountRestoreFile && restoreFile) deployer = deployer.withFile(RESTORE_FILE_PATH, restoreFile);
  // For local, the deployer image runs the CLI on the host's engine (lib/host-run.ts): the image as
  // installed, before any secret, key or dump was added. Docker media types load into any engine version.
  if (wiring.onHost)
    deployer = deployer.withFile(
      DEPLOYER_TARBALL_PATH,
      base.image.asTarball({ mediaTypes: ImageMediaTypes.DockerMediaTypes }),
    );
  if (wiring.scratchPostgres && wiring.secretVariables.scratchDatabaseUrl) {
    const password = generatedPassword();
    const scratch = postgresService(
      base.postgresImage,
      SCRATCH_DATABASE,
      secret("scratch-postgres-password", password),
    );
    deployer = deployer
      .withServiceBinding(SCRATCH_POSTGRES_HOST, scratch)
      .withSecretVariable(
        wiring.secretVariables.scratchDatabaseUrl,
        secret("scratch-database-url", scratchDatabaseUrl(password)),
      );
  }
  // Every call acts on the world as it is now: never reuse an earlier run's result for the same inputs.
  const container = deployer
    .withEnvVariable("SHIPYARD_RUN", `${new Date().toISOString()}-${run}`)
    .withExec(wiring.argv, { expect: ReturnType.Any });
  const [exitCode, stdout, stderr] = await Promise.all([
    container.exitCode(),
    container.stdout(),
    container.stderr(),
  ]);
  const outcome = deployerOutcome(exitCode, stdout, stderr);
  if (!outcome.ok) throw new Error(outcome.summary);
  return { container, outcome, ...(wiring.onHost ? { onHost: wiring.onHost } : {}) };
}
