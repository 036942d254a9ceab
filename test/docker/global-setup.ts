/**
 * Vitest global setup for the Docker tests: one engine for the whole run (a fresh, empty one unless
 * SHIPYARD_TEST_DOCKER_HOST names another) with the stand-ins' Debian base imported once. At the end
 * the engine must hold no container, network or volume: whatever a test left is named and fails the run,
 * then the engine and all of its files are removed.
 */
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { openDockerTestSession } from "./engine.js";

declare module "vitest" {
  export interface ProvidedContext {
    dockerHost: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const session = await openDockerTestSession();
  // An interrupted run (Ctrl-C, CI cancel) still stops the engine and removes its files.
  const onSignal = (signal: NodeJS.Signals) =>
    void session.engine.stop().finally(() => process.kill(process.pid, signal));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  project.provide("dockerHost", session.engine.host);
  const kind = session.engine.fresh ? "a fresh, empty engine" : `the engine at ${session.engine.host}`;
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`Docker tests run on ${kind}, ready with the stand-ins' Debian base in ${seconds} s`);

  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await session.close();
  };
}
