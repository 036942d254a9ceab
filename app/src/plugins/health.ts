/** Liveness, readiness and version: what orchestrators and the deploy pipeline ask the service. */
import type { FastifyReply } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import type pg from "pg";
import { currentMigration, hasMigration } from "../db/migrations.js";

export interface HealthOptions {
  pool: pg.Pool;
  redis: Redis;
  expectedMigration: string | null;
  release: { id: string; revision: string };
}

const CHECK_TIMEOUT_MS = 2_000;

async function check(run: () => Promise<string | null>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([run().then((problem) => problem ?? "ok"), timeout])) as string;
  } catch (error) {
    return `unreachable: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncZod<HealthOptions> = async (
  app,
  { pool, redis, expectedMigration, release },
) => {
  const noRateLimit = { rateLimit: false } as const;

  app.get("/healthz", { config: noRateLimit }, async () => ({ status: "alive" }));

  app.get("/version", { config: noRateLimit }, async () => ({
    release: release.id,
    revision: release.revision,
  }));

  const readiness = async (_request: unknown, reply: FastifyReply) => {
    const [postgres, schema, cache] = await Promise.all([
      check(async () => {
        await pool.query("SELECT 1");
        return null;
      }),
      check(async () => {
        if (await hasMigration(pool, expectedMigration)) return null;
        const current = await currentMigration(pool);
        return `schema at ${current ?? "no migration"}, this release needs ${expectedMigration}: run the migrate command`;
      }),
      check(async () => ((await redis.ping()) === "PONG" ? null : "unexpected PING reply")),
    ]);
    const checks = { postgres, schema, redis: cache };
    const ready = Object.values(checks).every((result) => result === "ok");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  };

  app.get("/readyz", { config: noRateLimit }, readiness);
  // The name most monitors and load balancers ask by default; the same answer as /readyz.
  app.get("/health", { config: noRateLimit }, readiness);
};
