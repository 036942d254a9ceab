/** audit: the operations recorded on the environment's host, as an aligned table or JSON. */
import { type OperationRecord, parseAudit, recentAudit } from "../commands/audit.js";
import { limitOption } from "./args.js";
import type { CliCommand } from "./command.js";
import { alignedTable } from "./table.js";

const COLUMNS = ["at", "operation", "result", "duration", "who", "summary"] as const;

const cells = (r: OperationRecord): string[] => [
  r.at,
  r.operation,
  r.result,
  `${(r.durationMs / 1000).toFixed(1)} s`,
  r.who,
  r.summary,
];

/** The records as an aligned table under a header. */
export const auditTable = (records: readonly OperationRecord[]): string[] =>
  alignedTable(COLUMNS, records.map(cells));

export const auditCommand: CliCommand = {
  name: "audit",
  usage: [
    [
      "audit [--limit=N]",
      "the operations done on the environment (deploy, rollback, backup, restore, setup, lock break): who, when, result",
    ],
  ],
  options: ["limit", "json"],
  examples: ["shipyard audit --env=prod", "shipyard audit --env=prod --limit=50 --json"],
  async run(ctx) {
    const limit = limitOption(ctx.options);
    const host = await ctx.host();
    const records = parseAudit((await host.run(recentAudit(ctx.environment.stateDirectory, limit))).stdout);
    return {
      result: { records },
      summary: records.length ? auditTable(records) : ["no operations recorded"],
    };
  },
};
