/** status and releases: what the environment runs now, from the host's ledger, its lock, its backups and its site. */
import { readJournal } from "../commands/journal.js";
import { parseLedger, type ReleaseRecord, recentReleases } from "../commands/ledger.js";
import { describeHolder } from "../commands/lock.js";
import { checkHealth } from "../health.js";
import { currentHolder } from "../locking.js";
import { currentRelease } from "../release/decisions.js";
import { parseJournal } from "../release/journal.js";
import { readServedCertificate, siteGet } from "../site.js";
import { limitOption } from "./args.js";
import type { CliCommand } from "./command.js";
import { backupCatalog } from "./database.js";
import { alignedTable } from "./table.js";

const releaseLine = (r: ReleaseRecord) =>
  `release ${r.release}  ${r.at}  ${r.result}  ${r.image}@${r.digest}  by ${r.who}`;

/** `releases` on a terminal: an aligned table, newest last, as the ledger reads. */
const releasesTable = (releases: readonly ReleaseRecord[]): string[] =>
  alignedTable(
    ["release", "at", "result", "by", "image"],
    releases.map((r) => [r.release, r.at, r.result, r.who, `${r.image}@${r.digest}`]),
  );

export const releasesCommand: CliCommand = {
  name: "releases",
  usage: [["releases [--limit=N]", "the last releases from the ledger on the host"]],
  options: ["limit", "json"],
  examples: ["shipyard releases --env=prod", "shipyard releases --env=prod --limit=50 --json"],
  async run(ctx) {
    const limit = limitOption(ctx.options);
    const host = await ctx.host();
    const releases = parseLedger(
      (await host.run(recentReleases(ctx.environment.stateDirectory, limit))).stdout,
    );
    return {
      result: { releases },
      summary: releases.length ? releasesTable(releases) : ["no releases recorded"],
    };
  },
};

export const statusCommand: CliCommand = {
  name: "status",
  usage: [["status", "health through the public URL, current release, lock, recent releases and backups"]],
  options: ["limit", "json"],
  examples: ["shipyard status --env=prod", "shipyard status --env=prod --json"],
  async run(ctx) {
    const { environment } = ctx;
    const limit = limitOption(ctx.options);
    const host = await ctx.host();
    const [holder, interrupted, releases, backups, health] = await Promise.all([
      currentHolder(host, environment),
      host.run(readJournal(environment.stateDirectory)).then((r) => parseJournal(r.stdout)),
      host.run(recentReleases(environment.stateDirectory, limit)).then((r) => parseLedger(r.stdout)),
      backupCatalog(ctx).then((catalog) => catalog.read().then((b) => b.slice(-limit))),
      readServedCertificate(host, environment).then((pem) =>
        checkHealth(new URL(environment.healthPath, environment.publicUrl).toString(), 5_000, siteGet(pem)),
      ),
    ]);
    const current = currentRelease(releases);
    const stale = environment.timeouts.lockStaleMinutes;
    return {
      result: { lock: holder, interrupted, current, health, releases, backups },
      summary: [
        `health: ${health.ok ? "ok" : "FAILING"} ${health.url} ${health.status ?? health.error} (${health.ms} ms)`,
        `current release: ${current ? `${current.release} (${current.image}@${current.digest}, ${current.at})` : "none recorded"}`,
        holder ? `lock: ${describeHolder(holder, new Date(), stale)}` : "lock: free",
        ...(interrupted
          ? [
              `INTERRUPTED: the release of ${interrupted.record.release} by ${interrupted.record.who} (started ${interrupted.record.at}) stopped mid-way${interrupted.left.switched ? `; ${environment.target.kind === "swarm" ? "the app may run that unverified release" : "nginx's upstream file may name its unverified container"}` : ""}; the next deploy or rollback undoes what it left`,
            ]
          : []),
        ...(releases.length ? releases.map(releaseLine) : ["no releases recorded"]),
        ...(backups.length
          ? backups.map(
              (b) =>
                `backup ${b.id}  ${b.createdAt}  verified${b.offsite ? `  off-site ${b.offsite.url}` : ""}`,
            )
          : ["no verified backups"]),
      ],
    };
  },
};
