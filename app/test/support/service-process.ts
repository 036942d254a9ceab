/** Runs the service as a real process (`cli.ts` through tsx), the way production starts it. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { freePort, waitUntil } from "../../../test/harness/network.js";

const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
const APP_DIR = path.dirname(path.dirname(CLI));

/** Only what we pass: nothing from the developer's shell leaks into the process under test. */
export function runCli(args: string[], env: NodeJS.ProcessEnv) {
  return execa(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: APP_DIR,
    env: { PATH: process.env.PATH, ...env },
    extendEnv: false,
    reject: false,
    all: true,
    // Tests send signals on purpose and judge the outcome; execa must not escalate to SIGKILL on its own.
    forceKillAfterDelay: false,
  });
}

export interface ServiceProcess {
  baseUrl: string;
  child: ResultPromise<{ reject: false; all: true }>;
}

export async function startService(env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  const port = await freePort();
  const child = runCli(["serve"], { ...env, PORT: String(port), HOST: "127.0.0.1" });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitUntil(
    "service /healthz",
    async () => {
      if (child.exitCode !== null) throw new Error(`service exited early:\n${(await child).all}`);
      return (await fetch(`${baseUrl}/healthz`)).ok;
    },
    20_000,
  );
  return { baseUrl, child };
}
