/** audit: the operations recorded on the environment's host, as an aligned table or JSON. */
import { type OperationRecord, parseAudit, recentAudit } from "../commands/audit.js";
import { limitOption } from "./args.js";
import type { CliCommand } from "./command.js";

const COLUMNS = ["at", "operation", "result", "duration", "who", "summary"] as const;

const cells = (r: OperationRecord): string[] => [
  r.at,
  r.operation,
  r.result,
  `${(r.durationMs / 1000).toFixed(1)} s`,
  r.who,
  r.summary,
];

/** One header line, then one line per record, each column as wide as its widest cell; the last is not padded. */
export function auditTable(records: readonly OperationRecord[]): string[] {
  const rows = [[...COLUMNS] as string[], ...records.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd(),
  );
}

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
