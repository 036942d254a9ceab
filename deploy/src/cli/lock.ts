/** lock status | lock break: the deploy lock on the environment's host. */
import { breakLock, describeHolder } from "../commands/lock.js";
import { currentHolder } from "../locking.js";
import { limitOption, refuseDryRun } from "./args.js";
import type { CliCommand } from "./command.js";
import { UsageError } from "./usage.js";

export const lockCommand: CliCommand = {
  name: "lock",
  usage: [["lock status | lock break", "show the deploy lock, or remove a stale one"]],
  options: ["json"],
  async run(ctx) {
    const { environment, options, subcommand, progress } = ctx;
    if (subcommand !== "status" && subcommand !== "break")
      throw new UsageError("lock needs a subcommand: status or break");
    refuseDryRun(options, "lock");
    limitOption(options); // unused here, but refused like everywhere on the host's commands
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
