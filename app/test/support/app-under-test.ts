/**
 * Builds the real app against the run's Postgres and Redis (from the global setup), with its logs
 * captured so tests can read them. Every test starts from empty tables and an empty Redis.
 */
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import pg from "pg";
import { inject } from "vitest";
import { buildApp } from "../../src/app.js";
import { type AppConfig, loadConfig } from "../../src/config.js";
import { expectedMigration } from "../../src/db/migrations.js";
import { createPool } from "../../src/db/pool.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRedis } from "../../src/redis.js";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

export function testConfig(overrides: NodeJS.ProcessEnv = {}): AppConfig {
  return loadConfig({
    DATABASE_URL: inject("databaseUrl"),
    REDIS_URL: inject("redisUrl"),
    ADMIN_TOKEN,
    LOG_LEVEL: "info",
    ...overrides,
  });
}

export interface AppUnderTest {
  app: FastifyInstance;
  pool: pg.Pool;
  redis: Redis;
  /** Every log line the app wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startApp(
  options: { env?: NodeJS.ProcessEnv; expectedMigration?: string | null } = {},
): Promise<AppUnderTest> {
  const config = testConfig(options.env);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger(config.logLevel, config.release.id, sink);
  const pool = createPool(config.databaseUrl, config.dbPoolMax, logger);
  const redis = createRedis(config.redisUrl, logger);
  await redis.connect();
  const app = await buildApp({
    config,
    pool,
    redis,
    logger,
    expectedMigration:
      options.expectedMigration === undefined ? await expectedMigration() : options.expectedMigration,
  });
  await app.ready();
  return {
    app,
    pool,
    redis,
    logs,
    async close() {
      await app.close();
      await pool.end();
      redis.disconnect();
    },
  };
}

/** Empty tables and an empty Redis, so no test depends on another's leftovers. */
export async function resetData(): Promise<void> {
  const pool = new pg.Pool({ connectionString: inject("databaseUrl"), max: 1 });
  const redis = new Redis(inject("redisUrl"));
  try {
    await pool.query("TRUNCATE orders, products RESTART IDENTITY CASCADE");
    await redis.flushdb();
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

export async function createProduct(
  app: FastifyInstance,
  fields: Partial<{ sku: string; name: string; priceCents: number; stock: number; description: string }> = {},
): Promise<{ id: number; sku: string; stock: number; priceCents: number; name: string }> {
  const response = await app.inject({
    method: "POST",
    url: "/products",
    headers: admin,
    payload: {
      sku: `SKU-${Math.random().toString(36).slice(2, 10)}`,
      name: "Mug",
      priceCents: 1200,
      stock: 10,
      ...fields,
    },
  });
  if (response.statusCode !== 201) throw new Error(`create product: ${response.statusCode} ${response.body}`);
  return response.json();
}
