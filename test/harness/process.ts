import type { ResultPromise } from "execa";

/** Signals a server and waits for it to exit, escalating to SIGKILL after `graceMs`. */
export async function stopProcess(
  child: ResultPromise,
  signal: NodeJS.Signals,
  graceMs = 10_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = child.then(
    () => undefined,
    () => undefined,
  );
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
