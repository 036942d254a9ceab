/** The real app (app/dist, built by `npm run build -w app`) as a host process on 127.0.0.1. */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { freePort, waitUntil } from "../../harness/network.js";
import { stopProcess } from "../../harness/process.js";
import { REPO_ROOT } from "./nginx-host.js";

const CLI = join(REPO_ROOT, "app", "dist", "cli.js");

export interface HostApp {
  readonly url: string;
  readonly port: number;
  readonly adminToken: string;
  stop(): Promise<void>;
}

export async function buildApp(): Promise<void> {
  await execa("npm", ["run", "build", "-w", "app"], { cwd: REPO_ROOT });
}

export async function startHostApp(backends: {
  databaseUrl: string;
  redisUrl: string;
  env?: Record<string, string>;
}): Promise<HostApp> {
  const port = await freePort();
  const adminToken = randomBytes(24).toString("hex");
  const env = {
    DATABASE_URL: backends.databaseUrl,
    REDIS_URL: backends.redisUrl,
    ADMIN_TOKEN: adminToken,
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "warn",
    TRUST_PROXY: "true",
    ...backends.env,
  };
  await execa("node", [CLI, "migrate"], { env });
  const child: ResultPromise = execa("node", [CLI, "serve"], { env, reject: false, stdout: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(
      "app",
      async () => {
        if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}`);
        return (await fetch(`${url}/readyz`)).ok;
      },
      30_000,
    );
  } catch (error) {
    await stopProcess(child, "SIGTERM");
    throw error;
  }
  return { url, port, adminToken, stop: () => stopProcess(child, "SIGTERM", 15_000) };
}
