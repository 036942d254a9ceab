/** backup, upload, restore and backups: the commands that make, copy, restore and list verified backups. */
import path from "node:path";
import {
  type BackupResult,
  backup,
  backupsOnServer,
  dumpsInContainer,
  importBackup,
  planBackup,
  uploadById,
} from "../backup/backup.js";
import { findBackup } from "../backup/catalog.js";
import { checkConfirmation, planImport, planRestore, restore } from "../backup/restore.js";
import type { Environment } from "../config/environments.js";
import { UsageError } from "../mistakes.js";
import type { CliCommand, Outcome } from "./command.js";
import { backupCatalog, backupContext, connectionFor } from "./database.js";
import { alignedTable } from "./table.js";

/** Where a backup's file is: here, or on the host (POSIX paths whatever this machine is). */
const storedAt = (directory: string, environment: Environment, file: string) =>
  backupsOnServer(environment) ? path.posix.join(directory, file) : path.join(directory, file);

/** The off-site copy failed after the backup was verified and kept: say both, and how to retry. */
function uploadProblem(environment: Environment, result: BackupResult): Outcome["problem"] {
  if (result.upload?.ok !== false) return undefined;
  return {
    kind: "UploadFailed",
    message:
      `backup ${result.entry.id} is verified and kept here, but its off-site copy failed: ${result.upload.error}\n` +
      `retry with: shipyard upload --env=${environment.name} --backup=${result.entry.id}`,
  };
}

const offsiteLine = (result: BackupResult) =>
  result.upload?.ok ? [`off-site copy at ${result.upload.url}, read back intact`] : [];

export const backupCommand: CliCommand = {
  name: "backup",
  usage: [
    ["backup", "verified backup of the environment's database (pg_dump, restore check, catalog, retention)"],
  ],
  options: ["fetch-to", "dry-run", "json"],
  examples: [
    "shipyard backup --env=staging --dry-run",
    "shipyard backup --env=prod --fetch-to=./prod-latest.dump",
  ],
  async run(ctx) {
    const { environment } = ctx;
    const dryRun = ctx.options["dry-run"];
    const conn = connectionFor(environment, !dryRun);
    const checked = backupContext(ctx, conn, { checks: !dryRun });
    const fetchTo = ctx.options["fetch-to"];
    const options = fetchTo ? { fetchTo } : {};
    if (dryRun) return { plan: planBackup(checked, undefined, options), summary: [] };
    // In the Postgres container, pg_dump runs on the host: the one connection this run opens there.
    const host = dumpsInContainer(environment) ? await ctx.host() : undefined;
    const done = await backup({ ...checked, ...(host ? { host } : {}) }, options);
    const { entry, removed } = done;
    const problem = uploadProblem(environment, done);
    const stored = storedAt(checked.directory, environment, entry.file);
    return {
      result: {
        backup: entry,
        path: stored,
        ...(backupsOnServer(environment) ? { onServer: host?.where ?? "" } : {}),
        ...(done.fetchedTo ? { fetchedTo: done.fetchedTo } : {}),
        removedByRetention: removed,
        ...(done.upload ? { upload: done.upload } : {}),
      },
      ...(problem ? { problem } : {}),
      summary: [
        `backup ${entry.id} verified: ${entry.tables.length} tables, ${entry.tables.reduce((n, t) => n + t.rows, 0)} rows, ` +
          `${(entry.sizeBytes / 1e6).toFixed(2)} MB, sha256 ${entry.sha256}`,
        `stored at ${stored}${backupsOnServer(environment) ? ` on ${host?.where}` : ""}${entry.encrypted ? " (age-encrypted)" : ""}`,
        ...(done.fetchedTo ? [`copied to ${done.fetchedTo}`] : []),
        ...offsiteLine(done),
        ...(removed.length ? [`retention removed ${removed.join(", ")}`] : []),
      ],
    };
  },
};

export const uploadCommand: CliCommand = {
  name: "upload",
  usage: [
    ["upload --backup=ID", "upload a catalogued backup to the environment's backup.upload store (again)"],
  ],
  options: ["backup", "json"],
  examples: ["shipyard upload --env=prod --backup=prod-20261123t101500z"],
  async run(ctx) {
    const { environment, options } = ctx;
    if (!options.backup)
      throw new UsageError("upload needs --backup=ID (list them with `shipyard backups --env=…`)");
    // No dump and no restore check: the backup was verified when it was made.
    const checked = backupContext(ctx, connectionFor(environment, false), { checks: false });
    const host = backupsOnServer(environment) ? await ctx.host() : undefined;
    const entry = await uploadById({ ...checked, ...(host ? { host } : {}) }, options.backup);
    return {
      result: { backup: entry },
      summary: [`backup ${entry.id} uploaded to ${entry.offsite?.url}, read back intact`],
    };
  },
};

export const restoreCommand: CliCommand = {
  name: "restore",
  usage: [
    [
      "restore --backup=ID",
      "restore a catalogued backup (a safety backup is taken first; --confirm=NAME where required)",
    ],
    [
      "restore --file=PATH",
      "restore a dump made elsewhere (e.g. exported by dagger call backup): verified and catalogued first",
    ],
  ],
  options: ["backup", "file", "confirm", "dry-run", "json"],
  examples: [
    "shipyard restore --env=staging --backup=staging-20261123t101500z --dry-run",
    "shipyard restore --env=prod --backup=prod-20261123t101500z --confirm=prod",
    "shipyard restore --env=local --file=./prod-latest.dump",
  ],
  async run(ctx) {
    const { environment, options } = ctx;
    const dryRun = options["dry-run"];
    if (!options.backup === !options.file)
      throw new UsageError(
        "restore needs either --backup=ID (list them with `shipyard backups --env=…`) or --file=PATH (a pg_dump custom-format file)",
      );
    const checked = backupContext(ctx, connectionFor(environment, !dryRun), { checks: !dryRun });
    checkConfirmation(checked, options.confirm);
    if (dryRun)
      return {
        plan: options.backup
          ? planRestore(checked, findBackup(await (await backupCatalog(ctx)).read(), options.backup))
          : planImport(checked, options.file ?? ""),
        summary: [],
      };
    const host = await ctx.host();
    const withHost = { ...checked, host };
    const result = await restore(withHost, host, {
      id: options.backup ?? (await importBackup(withHost, options.file ?? "")).id,
      confirm: options.confirm,
      ageIdentityFile: process.env.SHIPYARD_AGE_IDENTITY_FILE,
      who: ctx.who,
      // An imported file was restored into scratch and counted by the import itself.
      justVerified: options.backup === undefined,
    });
    return {
      result,
      summary: [
        `restored ${result.restored.id} into ${result.restored.database}; every table has its recorded row count`,
        `the data from before the restore is in backup ${result.safetyBackup.id}`,
        ...(result.untouchedTables.length
          ? [`tables not in the backup, left as they were: ${result.untouchedTables.join(", ")}`]
          : []),
      ],
    };
  },
};

export const backupsCommand: CliCommand = {
  name: "backups",
  usage: [["backups", "list the verified backups in the catalog"]],
  options: ["json"],
  examples: ["shipyard backups --env=prod", "shipyard backups --env=prod --json"],
  async run(ctx) {
    const backups = await (await backupCatalog(ctx)).read();
    return {
      result: { backups },
      summary: backups.length
        ? alignedTable(
            ["backup", "created", "size", "encrypted", "off-site", "reason"],
            backups.map((b) => [
              b.id,
              b.createdAt,
              `${(b.sizeBytes / 1e6).toFixed(2)} MB`,
              b.encrypted ? "yes" : "no",
              b.offsite?.url ?? "-",
              b.reason ?? "",
            ]),
          )
        : ["no verified backups yet"],
    };
  },
};
