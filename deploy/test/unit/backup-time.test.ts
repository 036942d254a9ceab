/** The time of the last verified backup, written for node-exporter's textfile collector. */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import {
  BACKUP_TIME_METRIC,
  backupTimeFile,
  backupTimeSteps,
  backupTimeText,
  writesBackupTime,
} from "../../src/backup/backup-time.js";
import type { BackupEntry } from "../../src/backup/catalog.js";
import { writeTextfile } from "../../src/commands/textfile.js";
import { Progress } from "../../src/progress.js";
import { localRunner } from "../../src/runner.js";
import { runSteps } from "../../src/steps.js";
import { localEnvironment } from "../support/environment.js";
import { FakeRunner } from "../support/fake-runner.js";

let dir: string;
beforeEach(async () => {
  dir = await makeScratchDir("backup-time");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const entry = { createdAt: "2026-11-23T06:00:00.000Z" } as BackupEntry;
const sshTarget = {
  kind: "ssh" as const,
  host: "server.example",
  user: "deploy",
  port: 22,
  hostKey: "ssh-ed25519 AAAA",
};

describe("the backup's time for Prometheus", () => {
  it("is the snapshot's time in seconds, as a gauge labelled with the environment", () => {
    expect(backupTimeText("prod", entry)).toBe(
      [
        `# HELP ${BACKUP_TIME_METRIC} When the last verified backup's snapshot was taken (written by shipyard).`,
        `# TYPE ${BACKUP_TIME_METRIC} gauge`,
        `${BACKUP_TIME_METRIC}{env="prod"} 1795413600`,
        "",
      ].join("\n"),
    );
    expect(() => backupTimeText("prod", { createdAt: "yesterday" } as BackupEntry)).toThrow(/no date/);
  });

  it("goes beside compose.yaml, where compose.yaml mounts it into node-exporter", () => {
    const env = localEnvironment(dir, { name: "staging" });
    expect(backupTimeFile(env)).toBe(
      `${env.compose.directory}/monitoring/textfile/shipyard_backup_staging.prom`,
    );
  });

  it("is written by backups that reach the host: in its container, or the host is this machine", () => {
    const local = localEnvironment(dir);
    const remote = { ...local, target: sshTarget };
    const inContainer = { ...remote, database: { ...remote.database, dumpFrom: "compose-service" as const } };
    expect(writesBackupTime(local)).toBe(true);
    expect(writesBackupTime(inContainer)).toBe(true);
    expect(writesBackupTime(remote)).toBe(false);
    expect(backupTimeSteps(remote)).toEqual([]);
  });

  it("replaces the file whole, readable by node-exporter's user, and leaves no temporary file", async () => {
    const file = path.join(dir, "compose", "monitoring", "textfile", "shipyard_backup_prod.prom");
    const runner = localRunner(10);
    await runner.run(writeTextfile(file, "first 1\n"));
    await runner.run(writeTextfile(file, backupTimeText("prod", entry)));
    expect(await readFile(file, "utf8")).toBe(backupTimeText("prod", entry));
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(await readdir(path.dirname(file))).toEqual(["shipyard_backup_prod.prom"]);
  });

  it("is a step whose failure keeps the backup: reported, never thrown", async () => {
    const env = localEnvironment(dir);
    const progress = new Progress(() => {});
    const host = new FakeRunner(() => new Error("disk full"));
    await runSteps(backupTimeSteps(env), { entry }, { runner: host, local: host, progress });
    expect(host.ran[0]?.stdin).toBe(backupTimeText(env.name, entry));
    expect(progress.steps).toEqual([
      expect.objectContaining({ step: "export backup time", ok: false, detail: "disk full" }),
    ]);
  });
});
