import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";

export interface DockerEngine {
  /** Stops the daemon if this process started it; leaves an engine it found running alone. */
  stop(): Promise<void>;
}

async function engineAnswers(): Promise<boolean> {
  const result = await execa("docker", ["info", "--format", "{{.ServerVersion}}"], {
    reject: false,
    timeout: 20_000,
  });
  return result.exitCode === 0;
}

async function installed(file: string): Promise<boolean> {
  const result = await execa("sh", ["-c", 'command -v "$1"', "sh", file], { reject: false });
  return result.exitCode === 0;
}

async function aptInstall(packages: string[]): Promise<void> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const first = await execa("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
    env,
    reject: false,
  });
  if (first.exitCode === 0) return;
  // A fresh machine may not have package lists yet.
  await execa("apt-get", ["update"], { env });
  await execa("apt-get", ["install", "-y", "--no-install-recommends", ...packages], { env });
}

/** Installs the Debian packages the stack tests drive: the engine, Compose v1, debootstrap. */
export async function ensureDockerTools(): Promise<void> {
  const missing: string[] = [];
  if (!(await installed("dockerd"))) missing.push("docker.io");
  const composePlugin = (await execa("docker", ["compose", "version"], { reject: false })).exitCode === 0;
  if (!composePlugin && !(await installed("docker-compose"))) missing.push("docker-compose");
  if (!(await installed("debootstrap"))) missing.push("debootstrap");
  if (missing.length > 0) await aptInstall(missing);
}

/**
 * Makes sure a Docker engine answers, starting `dockerd` when none does. The daemon keeps Docker's
 * defaults (iptables on) because compose networks need its NAT and inter-container rules.
 */
export async function ensureDockerEngine(): Promise<DockerEngine> {
  await ensureDockerTools();
  if (await engineAnswers()) return { stop: async () => {} };

  const logDir = mkdtempSync(join(tmpdir(), "dockerd-"));
  const logFile = join(logDir, "dockerd.log");
  const log = openSync(logFile, "a");
  const daemon = spawn("dockerd", [], { detached: true, stdio: ["ignore", log, log] });
  const exited = new Promise<void>((resolve) => daemon.once("exit", () => resolve()));
  for (let attempt = 0; attempt < 120; attempt++) {
    if (daemon.exitCode !== null) break;
    if (await engineAnswers()) {
      return {
        stop: async () => {
          daemon.kill("SIGTERM");
          await Promise.race([exited, sleep(30_000)]);
          closeSync(log);
          rmSync(logDir, { recursive: true, force: true });
        },
      };
    }
    await sleep(500);
  }
  daemon.kill("SIGKILL");
  throw new Error(`dockerd did not answer within 60 s; see ${logFile}`);
}
