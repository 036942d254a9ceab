/**
 * A fresh server for the journey: an OpenSSH server on 127.0.0.1 (pinned host key) whose sessions drive a
 * Docker engine of its own, started empty beside the tests' engine, with nothing deployed. The engine is
 * given the official images the stack pulls from Docker Hub (here: the stand-ins, loaded from the tests'
 * engine, as no registry can be reached); the app's image it pulls from the test registry by digest.
 */
import { execa } from "execa";
import { startSshServer, type TestSshServer } from "../../../deploy/test/support/ssh-server.js";
import { startSecondEngine, type TestEngine } from "../../docker/engine.js";

export interface FreshServer {
  readonly sshd: TestSshServer;
  /** `docker …` on the server's engine; its stdout. */
  docker(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startFreshServer(pulledImages: readonly string[]): Promise<FreshServer> {
  let engine: TestEngine | undefined;
  let sshd: TestSshServer | undefined;
  const stop = async () => {
    await sshd?.stop();
    await engine?.stop();
  };
  try {
    engine = await startSecondEngine();
    const host = engine.host;
    for (const image of pulledImages)
      await execa("sh", [
        "-c",
        'docker save "$1" | DOCKER_HOST="$2" docker load --quiet',
        "load",
        image,
        host,
      ]);
    sshd = await startSshServer({ ownHome: true, dockerHost: host });
    return {
      sshd,
      docker: async (args) => (await execa("docker", [...args], { env: { DOCKER_HOST: host } })).stdout,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
