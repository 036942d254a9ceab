/**
 * The record every operation ends in (cli/operation-record.ts), the audit log's commands
 * (commands/audit.ts), the `audit` verb's table, and runRecorded: the record kept through the host's
 * runner (a FakeRunner here), a failure to keep it being a warning and never the operation's.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { NO_OPTIONS, type Options } from "../../src/cli/args.js";
import { auditCommand, auditTable } from "../../src/cli/audit.js";
import type { CliCommand, Outcome } from "../../src/cli/command.js";
import type { CliContext } from "../../src/cli/context.js";
import { notificationText, operationOf, operationRecord } from "../../src/cli/operation-record.js";
import { runRecorded } from "../../src/cli/record.js";
import {
  type AuditedOperation,
  appendAudit,
  type OperationRecord,
  parseAudit,
  recentAudit,
} from "../../src/commands/audit.js";
import { UsageError } from "../../src/mistakes.js";
import { Progress } from "../../src/progress.js";
import { DeployFailed } from "../../src/release/release.js";
import { localEnvironment } from "../support/environment.js";
import { FakeRunner } from "../support/fake-runner.js";

const options = (more: Partial<Options> = {}): Options => ({ ...NO_OPTIONS, env: "prod", ...more });
const started = new Date("2026-11-23T10:00:00.000Z");
const ended = (
  e: { outcome: Outcome } | { error: unknown },
  operation: AuditedOperation = "deploy",
  typed = options(),
) =>
  operationRecord({
    operation,
    env: "prod",
    who: "ana@laptop",
    started,
    durationMs: 1234.4,
    options: typed,
    ended: e,
  });

describe("which command lines are operations", () => {
  it("the commands that change the environment, and lock break; not a plan, not what only reads", () => {
    for (const name of ["deploy", "rollback", "backup", "restore", "setup"])
      expect(operationOf(name, undefined, options())).toBe(name);
    expect(operationOf("lock", "break", options())).toBe("lock break");
    expect(operationOf("lock", "status", options())).toBeUndefined();
    expect(operationOf("deploy", undefined, options({ "dry-run": true }))).toBeUndefined();
    for (const name of ["status", "releases", "backups", "upload", "audit"])
      expect(operationOf(name, undefined, options())).toBeUndefined();
  });
});

describe("the operation record", () => {
  it("a deploy that succeeded: the first summary line and the ids its result names", () => {
    const outcome: Outcome = {
      result: { release: "r7", backup: "prod-20261123t100000z", image: "x" },
      summary: ["release r7 serves through nginx", "previous release: r6"],
    };
    expect(ended({ outcome })).toEqual({
      operation: "deploy",
      env: "prod",
      who: "ana@laptop",
      at: "2026-11-23T10:00:00.000Z",
      durationMs: 1234,
      result: "succeeded",
      summary: "release r7 serves through nginx",
      release: "r7",
      backup: "prod-20261123t100000z",
    });
  });

  it("a backup and a restore name the backup they made or restored", () => {
    const made = ended(
      { outcome: { result: { backup: { id: "b1" } }, summary: ["backup b1 verified"] } },
      "backup",
    );
    expect(made).toMatchObject({ result: "succeeded", backup: "b1" });
    expect(made).not.toHaveProperty("release");
    const restored = ended(
      { outcome: { result: { restored: { id: "b1" }, safetyBackup: { id: "b2" } }, summary: ["restored"] } },
      "restore",
    );
    expect(restored).toMatchObject({ backup: "b1" });
  });

  it("a failure: the error's first line, and the ids the command line named", () => {
    const record = ended(
      { error: new Error("migrate failed\n  stderr: relation exists") },
      "deploy",
      options({ release: "r8" }),
    );
    expect(record).toMatchObject({ result: "failed", summary: "migrate failed", release: "r8" });
  });

  it("an interrupted release, and a problem reported after the main work (exit 1: failed)", () => {
    expect(ended({ error: new DeployFailed("interrupted by SIGINT; undone", "SIGINT") })).toMatchObject({
      result: "interrupted",
    });
    const problem = {
      kind: "UploadFailed",
      message: "backup b1 is verified, but its off-site copy failed\nretry",
    };
    expect(ended({ outcome: { summary: ["backup b1 verified"], problem } }, "backup")).toMatchObject({
      result: "failed",
      summary: "backup b1 is verified, but its off-site copy failed",
    });
  });

  it("a mistake in what was typed is no operation: no record", () => {
    expect(
      ended({ error: new UsageError("restoring replaces the data; confirm with --confirm=prod") }),
    ).toBeUndefined();
  });

  it("a summary is cut to one short line, so the record stays one atomic append", () => {
    const record = ended({ error: new Error("x".repeat(10_000)) }) as OperationRecord;
    expect(record.summary.length).toBe(500);
    expect(() => appendAudit("/srv/state", record)).not.toThrow();
  });

  it("the notification's text says where, what, how it ended, how long and who", () => {
    const record = ended({ outcome: { result: { release: "r7" }, summary: ["release r7 serves"] } });
    expect(notificationText(record as OperationRecord)).toBe(
      "✅ shipyard deploy on prod succeeded in 1.2 s (by ana@laptop) [release r7]: release r7 serves",
    );
  });
});

const record: OperationRecord = {
  operation: "backup",
  env: "prod",
  who: "ci@github",
  at: "2026-11-23T10:00:00.000Z",
  durationMs: 41_250,
  result: "succeeded",
  summary: "backup b1 verified",
  backup: "b1",
};

describe("audit commands", () => {
  it("append one JSON line through stdin to audit.jsonl in the state directory", () => {
    const command = appendAudit("/srv/state", record);
    expect(command.argv.at(-1)).toBe("/srv/state/audit.jsonl");
    expect(command.stdin).toBe(`${JSON.stringify(record)}\n`);
    expect(parseAudit(command.stdin ?? "")).toEqual([record]);
  });

  it("read the last N lines; a line that is no record is named", () => {
    expect(recentAudit("/srv/state", 5).argv.slice(-2)).toEqual(["/srv/state/audit.jsonl", "5"]);
    expect(() => parseAudit(`${JSON.stringify(record)}\n{"operation":"dance"}\n`)).toThrow(/line 2/);
  });
});

function contextOn(host: FakeRunner, more: Partial<Options> = {}): CliContext {
  return {
    environment: localEnvironment("/srv/test"),
    options: options({ env: "local", ...more }),
    subcommand: undefined,
    passed: [],
    terminal: { input: false, output: false },
    progress: new Progress(),
    who: "ana@laptop",
    local: new FakeRunner(),
    host: async () => host,
  };
}

describe("shipyard audit", () => {
  it("prints the records as an aligned table, oldest first", async () => {
    const failed: OperationRecord = {
      ...record,
      operation: "lock break",
      result: "failed",
      durationMs: 80,
      who: "ana",
      summary: "refused",
    };
    const host = new FakeRunner(() => ({ stdout: `${JSON.stringify(record)}\n${JSON.stringify(failed)}\n` }));
    const outcome = await auditCommand.run(contextOn(host, { limit: "20" }));
    expect(host.lines).toEqual([recentAudit("/srv/test/state", 20).argv.join(" ")]);
    expect(outcome.result).toEqual({ records: [record, failed] });
    expect(outcome.summary).toEqual([
      "at                        operation   result     duration  who        summary",
      "2026-11-23T10:00:00.000Z  backup      succeeded  41.3 s    ci@github  backup b1 verified",
      "2026-11-23T10:00:00.000Z  lock break  failed     0.1 s     ana        refused",
    ]);
    expect(auditTable([])).toHaveLength(1);
  });

  it("says so when nothing is recorded", async () => {
    expect((await auditCommand.run(contextOn(new FakeRunner()))).summary).toEqual(["no operations recorded"]);
  });
});

describe("runRecorded", () => {
  afterEach(() => vi.restoreAllMocks());
  const command = (run: CliCommand["run"]): CliCommand => ({
    name: "backup",
    usage: [],
    options: [],
    examples: [],
    run,
  });

  it("appends the record to the host's audit log, and returns the outcome as it was", async () => {
    const host = new FakeRunner();
    const outcome: Outcome = { result: { backup: { id: "b1" } }, summary: ["backup b1 verified"] };
    expect(
      await runRecorded(
        command(async () => outcome),
        contextOn(host),
      ),
    ).toBe(outcome);
    expect(host.ran).toHaveLength(1);
    const [kept] = parseAudit(host.ran[0]?.stdin ?? "");
    expect(kept).toMatchObject({
      operation: "backup",
      env: "local",
      who: "ana@laptop",
      result: "succeeded",
      backup: "b1",
    });
  });

  it("a failed operation is recorded and its error thrown as it was", async () => {
    const host = new FakeRunner();
    const error = new Error("pg_dump failed");
    await expect(
      runRecorded(
        command(async () => Promise.reject(error)),
        contextOn(host),
      ),
    ).rejects.toBe(error);
    expect(parseAudit(host.ran[0]?.stdin ?? "")).toMatchObject([
      { result: "failed", summary: "pg_dump failed" },
    ]);
  });

  it("an audit log that cannot be written is one warning line, never the operation's failure", async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const host = new FakeRunner(() => ({ exitCode: 1, stderr: "Permission denied\nmore" }));
    const outcome: Outcome = { summary: ["backup b1 verified"] };
    expect(
      await runRecorded(
        command(async () => outcome),
        contextOn(host),
      ),
    ).toBe(outcome);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(
      /^shipyard backup: warning: the audit log on the host did not get this backup: .*\n$/,
    );
  });

  it("a plan and a mistake leave no record", async () => {
    const host = new FakeRunner();
    await runRecorded(
      command(async () => ({ plan: [], summary: [] })),
      contextOn(host, { "dry-run": true }),
    );
    await expect(
      runRecorded(
        command(async () => Promise.reject(new UsageError("no"))),
        contextOn(host),
      ),
    ).rejects.toThrow("no");
    expect(host.ran).toEqual([]);
  });
});
