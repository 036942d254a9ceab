/**
 * exec: a command in a service's running container on the environment's host (`compose exec`), with the
 * operator's terminal when stdin and stdout are one (a psql prompt), piped otherwise (scripts, CI); the
 * CLI exits with the command's exit code. It changes nothing by itself, so it leaves no audit record.
 */
import { execInService } from "../commands/running-service.js";
import { planned } from "../progress.js";
import { unreachedRunner } from "../runner.js";
import type { CliCommand } from "./command.js";
import { serviceOption } from "./service-flags.js";

export const execCommand: CliCommand = {
  name: "exec",
  usage: [
    [
      "exec [--service=NAME] -- CMD [ARGS…]",
      "run CMD in the service's running container (default: app), interactive on a terminal; exits with CMD's code",
    ],
  ],
  options: ["service", "dry-run"],
  passes: "CMD [ARGS…]",
  examples: [
    "shipyard exec --env=prod -- node dist/cli.js migration-version",
    "shipyard exec --env=prod --service=postgres -- psql -U app -d app",
    "shipyard exec --env=prod --service=postgres -- psql -U app -d app -c 'SELECT count(*) FROM orders'",
    "shipyard exec --env=prod --service=redis -- redis-cli info memory",
    "shipyard exec --env=prod --dry-run -- node dist/cli.js migration-version",
  ],
  async run(ctx) {
    const { environment, options } = ctx;
    const service = serviceOption(options);
    const terminal = ctx.terminal.input && ctx.terminal.output;
    const command = execInService(environment, service, ctx.passed, { terminal });
    if (options["dry-run"]) {
      const where = unreachedRunner(environment).where;
      const how = terminal ? "interactive, on this terminal" : "not interactive (-T): stdin and stdout piped";
      return { plan: [planned(`exec in ${service}`, command, `on ${where}, ${how}`)], summary: [] };
    }
    const host = await ctx.host();
    return { summary: [], exitCode: await host.attach(command, { terminal, input: true }) };
  },
};
