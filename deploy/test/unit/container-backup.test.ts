/** Backups of a Postgres that is never published: pg_dump inside the stack's container, as data. */
import { describe, expect, it } from "vitest";
import { type BackupContext, planBackup, postgresContainer } from "../../src/backup/backup.js";
import {
  CONTAINER_DUMP_SCRIPT,
  COUNTS_MARKER,
  containerCounts,
  containerDump,
  containerRestore,
  DUMP_EXIT_MARKER,
  dumpedDatabase,
  parseContainerCounts,
  parseContainerDumpReport,
  parseDatabaseUrl,
} from "../../src/commands/postgres.js";
import { ConfigError, parseEnvironments, selectEnvironment } from "../../src/config/environments.js";
import { Progress } from "../../src/progress.js";
import { localRunner } from "../../src/runner.js";
import { localEntry, localEnvironment, uncheckedEnvironmentsYaml } from "../support/environment.js";

const environment = localEnvironment("/backups", {
  compose: {
    project: "shop",
    directory: "/srv/shop/compose",
    cli: "docker-compose",
    appService: "app",
    nginxService: "nginx",
    nginxConfDirectory: "/srv/shop/nginx",
  },
  database: { urlEnv: "DATABASE_URL", dumpFrom: "compose-service", service: "db" },
});

const hex = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("hex");

describe("pg_dump inside the compose service's container", () => {
  it("runs psql through compose exec on the environment's project, reading the script from stdin", () => {
    const command = containerDump(postgresContainer(environment), "/backups/x.dump.partial");
    expect(command.argv).toEqual([
      "env",
      "docker-compose",
      "--project-name",
      "shop",
      "--project-directory",
      "/srv/shop/compose",
      "exec",
      "-T",
      "db",
      "sh",
      "-c",
      'exec psql --no-psqlrc --quiet --no-password --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"',
    ]);
    expect(command.stdin).toBe(CONTAINER_DUMP_SCRIPT);
    expect(command.stdoutFile).toBe("/backups/x.dump.partial");
    // Credentials stay in the container: nothing to pass, so nothing an SSH runner would refuse.
    expect(command.env).toBeUndefined();
  });

  it("the service defaults to postgres", () => {
    const env = {
      ...environment,
      database: { urlEnv: "DATABASE_URL", dumpFrom: "compose-service" as const },
    };
    expect(postgresContainer(env).service).toBe("postgres");
  });

  it("dumps the very snapshot it counted, in custom format with fast compression, and reports pg_dump's exit status", () => {
    const script = CONTAINER_DUMP_SCRIPT;
    expect(script.indexOf("BEGIN ISOLATION LEVEL REPEATABLE READ")).toBeLessThan(
      script.indexOf("pg_export_snapshot()"),
    );
    expect(script).toContain(
      'pg_dump --format=custom --compress=1 --no-password --snapshot="$SHIPYARD_SNAPSHOT"',
    );
    expect(script).toContain(`echo "${DUMP_EXIT_MARKER} $?" >&2`);
    expect(script.indexOf("\\! pg_dump")).toBeLessThan(script.indexOf("COMMIT;"));
  });

  it("reads the counts and database from the marked stderr lines", () => {
    const stderr = [
      "some compose warning",
      `${COUNTS_MARKER} ${hex({ database: "shop", tables: [{ table: "public.orders", rows: 12 }] })}`,
      `${DUMP_EXIT_MARKER} 0`,
      "",
    ].join("\n");
    expect(parseContainerDumpReport(stderr)).toEqual({
      database: "shop",
      tables: [{ table: "public.orders", rows: 12 }],
    });
  });

  it("refuses a dump whose pg_dump failed, or that never reported", () => {
    const counts = `${COUNTS_MARKER} ${hex({ database: "shop", tables: [] })}`;
    expect(() =>
      parseContainerDumpReport(`${counts}\npg_dump: error: connection failed\n${DUMP_EXIT_MARKER} 1\n`),
    ).toThrow(/pg_dump in the container failed \(exit 1\):[\s\S]*connection failed/);
    expect(() => parseContainerDumpReport('service "db" is not running\n')).toThrow(
      /pg_dump in the container did not run:\nservice "db" is not running/,
    );
    expect(() => parseContainerDumpReport(`${DUMP_EXIT_MARKER} 0\n`)).toThrow(/reported no row counts/);
    expect(() =>
      parseContainerDumpReport(`${COUNTS_MARKER} ${hex({ database: "shop" })}\n${DUMP_EXIT_MARKER} 0\n`),
    ).toThrow(/row counts are not as expected/);
  });
});

describe("restore inside the container", () => {
  const target = postgresContainer(environment);

  it("pg_restore reads the dump from stdin and replaces the data in one transaction", () => {
    const command = containerRestore(target, "/tmp/restore/backup.dump");
    expect(command.argv.slice(6)).toEqual([
      "exec",
      "-T",
      "db",
      "sh",
      "-c",
      'exec pg_restore --no-password --exit-on-error --single-transaction --no-owner --clean --if-exists --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"',
    ]);
    expect(command.stdinFile).toBe("/tmp/restore/backup.dump");
    expect(command.env).toBeUndefined();
  });

  it("counts rows with the same query the dump uses, printed to stdout", () => {
    const command = containerCounts(target);
    expect(command.stdin).toContain(`\\echo ${COUNTS_MARKER} :shipyard_counts`);
    expect(parseContainerCounts(`${COUNTS_MARKER} ${hex({ database: "shop", tables: [] })}\n`)).toEqual({
      database: "shop",
      tables: [],
    });
    expect(() => parseContainerCounts("psql: error: connection refused\n")).toThrow(/no row counts/);
  });

  it("reads the source database's name from pg_restore --list", () => {
    expect(
      dumpedDatabase(";\n; Archive created at 2026-11-23\n;     dbname: shop\n;     TOC Entries: 12\n"),
    ).toBe("shop");
    expect(() => dumpedDatabase("nothing")).toThrow(/names no database/);
  });
});

describe("backup plan", () => {
  const scratch = parseDatabaseUrl("postgres://checker:pw@scratch.internal:6432/postgres", "SCRATCH");
  const ctx = (env = environment): BackupContext => ({
    environment: env,
    conn: parseDatabaseUrl("postgres://app:pw@db.internal:5432/shop", "DATABASE_URL"),
    scratch,
    tools: { binDir: null },
    runner: localRunner(10),
    progress: new Progress(() => {}),
    directory: "/backups",
  });

  it("measures the database in the container and the space here, dumps there, then restores and counts before recording", () => {
    const plan = planBackup(ctx(), "b1");
    expect(plan.map((s) => s.step)).toEqual([
      "preflight: database size",
      "preflight: free space",
      "dump in container",
      "clear scratch database",
      "scratch database",
      "restore into scratch",
      "verify row counts",
      "drop scratch database",
      "record",
      "export backup time",
      "retention",
    ]);
    expect(plan[0]?.argv).toContain("exec");
    expect(plan[1]?.argv).toEqual(["df", "--output=avail", "-B1", "--", "/backups"]);
    expect(plan[2]?.argv).toContain("exec");
    const restoreStep = plan.find((s) => s.step === "restore into scratch");
    expect(restoreStep?.argv?.[0]).toBe("pg_restore");
  });

  it("by URL, the size and the dump come from this machine against the source server, as before", () => {
    const byUrl = { ...environment, database: { urlEnv: "DATABASE_URL" } };
    const plan = planBackup(ctx(byUrl), "b1");
    expect(plan.map((s) => s.step).slice(0, 4)).toEqual([
      "preflight: database size",
      "preflight: free space",
      "snapshot",
      "dump",
    ]);
    expect(plan[0]?.argv?.[0]).toBe("psql");
    expect(plan[3]?.argv).toContain("--snapshot=<exported-at-run-time>");
  });
});

describe("environments file: database.dumpFrom", () => {
  const file = (database: Record<string, string>) =>
    uncheckedEnvironmentsYaml({
      prod: {
        ...localEntry(".", {
          compose: { project: "shop", directory: "compose", nginxConfDirectory: "nginx/conf.d" },
          stateDirectory: "state",
          publicUrl: "https://example.com",
          backup: { directory: "backups", retention: { daily: 3, weekly: 1 } },
        }),
        database,
      },
    });

  it("accepts compose-service with an optional service name, and leaves url the default", () => {
    const env = selectEnvironment(
      parseEnvironments(file({ urlEnv: "DATABASE_URL", dumpFrom: "compose-service", service: "db" }), "f"),
      "prod",
      "f",
    );
    expect(env.database).toEqual({ urlEnv: "DATABASE_URL", dumpFrom: "compose-service", service: "db" });
    const plain = selectEnvironment(parseEnvironments(file({ urlEnv: "DATABASE_URL" }), "f"), "prod", "f");
    expect(plain.database.dumpFrom).toBeUndefined();
  });

  it("names the field and the valid choices for a wrong source", () => {
    expect(() => parseEnvironments(file({ urlEnv: "DATABASE_URL", dumpFrom: "container" }), "f")).toThrow(
      ConfigError,
    );
    expect(() => parseEnvironments(file({ urlEnv: "DATABASE_URL", dumpFrom: "container" }), "f")).toThrow(
      /environments\.prod\.database\.dumpFrom: .*"url"\|"compose-service"/,
    );
    expect(() => parseEnvironments(file({ urlEnv: "DATABASE_URL", service: "no spaces" }), "f")).toThrow(
      /environments\.prod\.database\.service: expected a compose service name/,
    );
  });
});
