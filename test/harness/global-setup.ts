/**
 * Vitest global setup for the integration project: one Postgres and one Redis for the whole run,
 * migrated once. With DATABASE_URL and REDIS_URL set (as the Dagger `test` function does), it starts nothing.
 */
import type {} from "vitest"; // brings the module into the program so the augmentation below applies
import type { TestProject } from "vitest/node";
import { migrateUp } from "../../app/src/db/migrations.js";
import { type EphemeralPostgres, startPostgres } from "./ephemeral-postgres.js";
import { type EphemeralRedis, startRedis } from "./ephemeral-redis.js";
import { sweepStaleScratchDirs } from "./scratch-dir.js";
import { chooseTestBackends } from "./server-plans.js";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await sweepStaleScratchDirs();
  const backends = chooseTestBackends(process.env);
  let postgres: EphemeralPostgres | undefined;
  let redis: EphemeralRedis | undefined;
  const teardown = async () => {
    await Promise.allSettled([postgres?.stop(), redis?.stop()]);
  };
  // An interrupted run (Ctrl-C, CI cancel) still stops the servers and removes their files.
  const onSignal = (signal: NodeJS.Signals) =>
    void teardown().finally(() => process.kill(process.pid, signal));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    let databaseUrl: string;
    let redisUrl: string;
    if (backends.mode === "external") {
      ({ databaseUrl, redisUrl } = backends);
    } else {
      [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
      databaseUrl = await postgres.createDatabase("app_test");
      redisUrl = redis.url;
    }
    await migrateUp(databaseUrl);
    project.provide("databaseUrl", databaseUrl);
    project.provide("redisUrl", redisUrl);
  } catch (error) {
    await teardown();
    throw error;
  }
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await teardown();
  };
}
