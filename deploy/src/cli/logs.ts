/**
 * logs: a service's log lines from the environment's host, through the stack's compose project, streamed
 * to stdout as they come (or, with --json, collected into the envelope); --follow until Ctrl-C.
 * It changes nothing, so it leaves no audit record (operation-record.ts).
 */
import { serviceLogs } from "../commands/running-service.js";
import { SIGNAL_EXIT_CODES } from "../interrupts.js";
import { planned } from "../progress.js";
import { unreachedRunner } from "../runner.js";
import type { CliCommand } from "./command.js";
import { logsRequest } from "./service-flags.js";

const lines = (text: string) => text.split("\n").filter((line) => line !== "");
const interrupted = (exitCode: number) => Object.values(SIGNAL_EXIT_CODES).includes(exitCode);

export const logsCommand: CliCommand = {
  name: "logs",
  usage: [
    [
      "logs [--service=NAME]",
      "a service's log lines on the host (default: app, its last 100); --follow streams until Ctrl-C",
    ],
  ],
  options: ["service", "follow", "since", "tail", "dry-run", "json"],
  examples: [
    "shipyard logs --env=prod",
    "shipyard logs --env=prod --follow",
    "shipyard logs --env=prod --service=nginx --since=15m",
    "shipyard logs --env=prod --since=2026-11-23T10:00:00Z --tail=all | jq 'select(.level == \"error\")'",
    "shipyard logs --env=prod --service=postgres --tail=20 --dry-run",
  ],
  async run(ctx) {
    const { environment, options } = ctx;
    const request = logsRequest(options, environment);
    const command = serviceLogs(environment, request);
    // Someone watching: over SSH the remote command gets a terminal, so it ends with the session.
    const terminal = request.follow && ctx.terminal.output;
    if (options["dry-run"]) {
      const where = unreachedRunner(environment).where;
      const ssh = environment.target.kind !== "local";
      const note = `on ${where}${ssh && terminal ? ", with a terminal (ssh -tt), so Ctrl-C ends it there too" : ""}`;
      return { plan: [planned(`logs of ${request.service}`, command, note)], summary: [] };
    }
    const host = await ctx.host();
    if (options.json) {
      const { stdout, stderr } = await host.run(command);
      return {
        result: { service: request.service, stdout: lines(stdout), stderr: lines(stderr) },
        summary: [],
      };
    }
    const exitCode = await host.attach(command, { terminal, input: false });
    // Ctrl-C is how a --follow ends: the shell's code for it, and nothing to report.
    if (exitCode === 0 || interrupted(exitCode)) return { summary: [], exitCode };
    return {
      summary: [],
      problem: {
        kind: "LogsFailed",
        message: `\`${command.argv.join(" ")}\` exited ${exitCode} on ${host.where}`,
      },
    };
  },
};
