#!/usr/bin/env node
/** The service's one entry point: `serve`, `migrate`, `migration-version`, `seed`. */
import pg from "pg";
import { ConfigError, loadConfig, loadDatabaseConfig, loadReleaseId } from "./config.js";
import { currentMigration, expectedMigration, hasMigration, migrateUp } from "./db/migrations.js";
import { createLogger } from "./observability/logger.js";
import { seedDemoData } from "./seed.js";
import { shutdownOnSignals, startServer } from "./server.js";

const USAGE = "usage: cli.js <serve | migrate | migration-version | seed>";
// EX_CONFIG from sysexits.h: lets an orchestrator tell "misconfigured" from "crashed".
const EXIT_CONFIG = 78;
const EXIT_USAGE = 64;

async function withDatabase<T>(run: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: loadDatabaseConfig(process.env).databaseUrl, max: 1 });
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

async function main(command: string | undefined): Promise<void> {
  const log = createLogger("info", loadReleaseId(process.env));
  switch (command) {
    case "serve": {
      const config = loadConfig(process.env);
      const logger = createLogger(config.logLevel, config.release.id);
      shutdownOnSignals(await startServer(config, logger), config.shutdownTimeoutMs, logger);
      return;
    }
    case "migrate": {
      const { databaseUrl } = loadDatabaseConfig(process.env);
      const applied = await migrateUp(databaseUrl, (message) => log.debug(message));
      log.info({ applied, version: await withDatabase(currentMigration) }, "migrations applied");
      return;
    }
    case "migration-version": {
      const expected = await expectedMigration();
      const [current, applied] = await withDatabase((db) =>
        Promise.all([currentMigration(db), hasMigration(db, expected)]),
      );
      // Plain output: this is read by people and by deploy scripts (`current expected`).
      console.log(`current: ${current ?? "none"}\nexpected: ${expected ?? "none"}`);
      // A newer schema is fine (expand/contract); one without this release's migrations is not.
      process.exitCode = applied ? 0 : 3;
      return;
    }
    case "seed": {
      const inserted = await withDatabase(seedDemoData);
      log.info({ inserted }, "demo data seeded");
      return;
    }
    default:
      console.error(USAGE);
      process.exitCode = EXIT_USAGE;
  }
}

main(process.argv[2]).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(EXIT_CONFIG);
  }
  createLogger("error", loadReleaseId(process.env)).fatal({ err: error }, "command failed");
  process.exit(1);
});
