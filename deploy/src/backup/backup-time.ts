/**
 * When the last verified backup was made, for Prometheus, without a daemon of ours: a file in the stack's
 * `monitoring/textfile/` directory on the host, which node-exporter's textfile collector (compose.yaml's
 * monitoring profile) serves as `shipyard_backup_last_verified_timestamp_seconds{env="…"}`. The
 * BackupTooOld alert (compose/monitoring/alerts.yml) fires when it is over 26 hours old.
 *
 * The time is the backup's `createdAt`, the moment its snapshot was taken: the age of the data a restore
 * would bring back. Written right after the backup is catalogued; a file that cannot be written costs the
 * alert its freshness, never the verified backup, so that step's failure is reported and tolerated.
 */
import path from "node:path";
import { writeTextfile } from "../commands/textfile.js";
import type { Environment } from "../config/environments.js";
import { effect, type Step } from "../steps.js";
import type { BackupEntry } from "./catalog.js";
import { dumpsInContainer } from "./context.js";

export const BACKUP_TIME_METRIC = "shipyard_backup_last_verified_timestamp_seconds";

/** Beside compose.yaml on the host, as compose.yaml mounts it into node-exporter (`./monitoring/textfile`). */
export function backupTimeFile(environment: Environment): string {
  return path.posix.join(
    environment.compose.directory,
    "monitoring",
    "textfile",
    `shipyard_backup_${environment.name}.prom`,
  );
}

/** Prometheus' text format: a label value escapes backslash, double quote and newline. */
const labelValue = (value: string) =>
  value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

export function backupTimeText(env: string, backup: Pick<BackupEntry, "createdAt">): string {
  const seconds = Date.parse(backup.createdAt) / 1000;
  if (!Number.isFinite(seconds))
    throw new Error(`backup time ${JSON.stringify(backup.createdAt)} is no date`);
  return [
    `# HELP ${BACKUP_TIME_METRIC} When the last verified backup's snapshot was taken (written by shipyard).`,
    `# TYPE ${BACKUP_TIME_METRIC} gauge`,
    `${BACKUP_TIME_METRIC}{env="${labelValue(env)}"} ${seconds}`,
    "",
  ].join("\n");
}

/**
 * Whether a backup's steps reach the host the file belongs on: they run there (dumped in the stack's
 * container, which backups kept on the server always are), or the host is this machine. A backup by URL
 * of a remote server never opens the host, so it writes no file (docs/monitoring.md says what to do then).
 */
export function writesBackupTime(environment: Environment): boolean {
  return dumpsInContainer(environment) || environment.target.kind === "local";
}

/** The step after "record": none for an environment whose backups do not reach its host. */
export function backupTimeSteps<F extends { entry: BackupEntry | null }>(
  environment: Environment,
): Step<F>[] {
  if (!writesBackupTime(environment)) return [];
  const file = backupTimeFile(environment);
  return [
    effect<F, string>(
      "export backup time",
      async (facts, x) => {
        if (!facts.entry) throw new Error("no backup was recorded");
        await x.runner.run(writeTextfile(file, backupTimeText(environment.name, facts.entry)));
        return file;
      },
      {
        shows: writeTextfile(file, ""),
        tolerate: () => {},
        detail: (written) => `to ${written}`,
        note: `${BACKUP_TIME_METRIC}{env="${environment.name}"} for node-exporter's textfile collector, written then renamed; a failure here keeps the backup`,
      },
    ),
  ];
}
