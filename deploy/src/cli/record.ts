/**
 * Runs a command that performs an operation on the environment and, whatever becomes of it, keeps its
 * record (operation-record.ts decides it): appended to the audit log on the host, and sent to the
 * environment's webhook for the operations it hears about. Neither ever changes how the operation ends:
 * a failure of either is one warning line on stderr.
 */
import { appendAudit, type OperationRecord } from "../commands/audit.js";
import { postWebhook } from "../notify.js";
import type { CliCommand, Outcome } from "./command.js";
import type { CliContext } from "./context.js";
import { NOTIFIED, notificationText, operationOf, operationRecord } from "./operation-record.js";

const warn = (command: string, text: string) =>
  process.stderr.write(`shipyard ${command}: warning: ${text.split("\n")[0]}\n`);

export async function runRecorded(command: CliCommand, ctx: CliContext): Promise<Outcome> {
  const operation = operationOf(command.name, ctx.subcommand, ctx.options);
  if (!operation) return command.run(ctx);
  const started = new Date();
  const clock = performance.now();
  let ended: { outcome: Outcome } | { error: unknown };
  try {
    ended = { outcome: await command.run(ctx) };
  } catch (error) {
    ended = { error };
  }
  const record = operationRecord({
    operation,
    env: ctx.environment.name,
    who: ctx.who,
    started,
    durationMs: performance.now() - clock,
    options: ctx.options,
    ended,
  });
  if (record) await Promise.all([audit(ctx, record, command.name), notify(ctx, record, command.name)]);
  if ("error" in ended) throw ended.error;
  return ended.outcome;
}

async function audit(ctx: CliContext, record: OperationRecord, command: string): Promise<void> {
  try {
    const host = await ctx.host();
    await host.run(appendAudit(ctx.environment.stateDirectory, record));
  } catch (error) {
    warn(
      command,
      `the audit log on the host did not get this ${record.operation}: ${(error as Error).message}`,
    );
  }
}

async function notify(ctx: CliContext, record: OperationRecord, command: string): Promise<void> {
  const { notify: settings } = ctx.environment;
  if (!settings || !NOTIFIED.includes(record.operation)) return;
  const url = process.env[settings.webhookUrlEnv];
  if (!url) {
    warn(
      command,
      `notify.webhookUrlEnv names ${settings.webhookUrlEnv}, which is not set: no notification sent`,
    );
    return;
  }
  try {
    await postWebhook(url, notificationText(record), record);
  } catch (error) {
    warn(command, `no notification sent: ${(error as Error).message}`);
  }
}
