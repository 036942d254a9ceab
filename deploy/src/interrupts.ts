/**
 * Ctrl-C (SIGINT) and SIGTERM (a cancelled CI job, `docker stop` of the deployer) during a release. The
 * first stops the release at its next step and undoes it, exactly as a failure is undone; the undo is
 * bounded (each of its commands by the runner's timeout) and is not itself interrupted, because stopping
 * half way would leave more broken than now. A second signal says what is going on and how to finish; a
 * third exits at once, and the release journal lets the next run finish the undo.
 */
import { Interrupted } from "./steps.js";

export const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export async function withInterrupts<T>(
  what: { operation: string; envName: string },
  work: (signal: AbortSignal) => Promise<T>,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<T> {
  const controller = new AbortController();
  let received = 0;
  const handler = (signalName: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      write(
        `${signalName}: stopping the ${what.operation} at its next step and undoing it; wait for "undone" (signal again to see how to stop sooner)`,
      );
      controller.abort(new Interrupted(signalName));
    } else if (received === 2) {
      write(
        `${signalName} again: the undo is running and ends by itself (each command is bounded). Signal a third time to exit now: ` +
          `the next \`shipyard deploy --env=${what.envName}\` (or rollback) then undoes what is left, after ` +
          `\`shipyard lock break --env=${what.envName}\` if the lock stays held`,
      );
    } else {
      write(
        `${signalName} a third time: exiting now; the release journal on the host tells the next run what to undo`,
      );
      process.exit(SIGNAL_EXIT_CODES[signalName] ?? 1);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  }
}
