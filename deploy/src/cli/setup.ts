/** setup: prepares a new server for its first deploy (setup/setup.ts), its --dry-run plan and its summary. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { configToShip } from "../release/deploy.js";
import { runSetup, type SetupContext, type SetupReport, setupPlan, setupReport } from "../setup/setup.js";
import type { CliCommand } from "./command.js";
import { configSource } from "./config-source.js";
import type { CliContext } from "./context.js";

export const setupCommand: CliCommand = {
  name: "setup",
  usage: [
    [
      "setup",
      "prepare a new server: check Docker and compose, make the directories, compose/.env with fresh secrets (on Swarm: the swarm's secrets), nginx's upstream and a temporary certificate; only what is missing. A secret set in the environment (e.g. ADMIN_TOKEN) is taken as it is",
    ],
  ],
  options: ["dry-run", "json"],
  examples: ["shipyard setup --env=prod --dry-run", "shipyard setup --env=prod"],
  async run(ctx) {
    const { environment, options, progress } = ctx;
    const source = configSource();
    const setup: SetupContext = {
      environment,
      runner: await ctx.host(),
      local: ctx.local,
      progress,
      who: ctx.who,
      config: await configToShip(environment, source),
      envTemplate: await readFile(path.join(source, "compose/.env.example"), "utf8"),
      // Only the secrets' names are read (STACK_SECRETS), and only when set.
      given: process.env,
    };
    if (options["dry-run"]) {
      const holder = {
        holder: ctx.who,
        purpose: "setup",
        since: new Date().toISOString(),
        token: "<random>",
      };
      return { plan: await setupPlan(setup, holder), summary: [] };
    }
    const facts = await runSetup(setup);
    const items = setupReport(environment, facts);
    return {
      result: { where: setup.runner.where, engine: facts.engine, compose: facts.compose, items },
      summary: setupSummary(ctx, setup.runner.where, items),
    };
  },
};

function setupSummary(ctx: CliContext, where: string, items: SetupReport[]): string[] {
  const name = ctx.environment.name;
  const lines = items.map((i) =>
    i.state === "created" ? `created: ${i.item} (${i.path})` : `already set up: ${i.item} (${i.path})`,
  );
  if (items.every((i) => i.state === "already set up"))
    return [...lines, `nothing changed: ${name} on ${where} was set up already`];
  const certificate = items.find((i) => i.item === "TLS certificate" && i.state === "created");
  return [
    ...lines,
    ...(certificate
      ? [
          "the certificate is self-signed and temporary: browsers will warn until Let's Encrypt replaces it (nginx/README.md)",
        ]
      : []),
    `${name} on ${where} is ready for its first deploy: shipyard deploy --env=${name} --image=NAME@sha256:…`,
  ];
}
