/** lock status | lock break: the deploy lock on the environment's host. */
import { breakLock, describeHolder } from "../commands/lock.js";
import { currentHolder } from "../locking.js";
import type { CliCommand } from "./command.js";

export const lockCommand: CliCommand = {
  name: "lock",
  usage: [["lock status | lock break", "show the deploy lock, or remove a stale one"]],
  options: ["json"],
  subcommands: ["status", "break"],
  examples: ["shipyard lock status --env=prod", "shipyard lock break --env=prod"],
  async run(ctx) {
    // checkFits (args.ts) let only "status" and "break" through.
    const { environment, subcommand, progress } = ctx;
    const host = await ctx.host();
    const holder = await currentHolder(host, environment);
    const stale = environment.timeouts.lockStaleMinutes;
    if (subcommand === "break") {
      await progress.step("break lock", () => host.run(breakLock(environment.stateDirectory)));
      return {
        result: { broken: holder },
        summary: [
          holder ? `removed the lock ${describeHolder(holder, new Date(), stale)}` : "there was no lock",
        ],
      };
    }
    return {
      result: { lock: holder },
      summary: [holder ? `lock: ${describeHolder(holder, new Date(), stale)}` : "lock: free"],
    };
  },
};
