/** Runs the service: opens the connections, listens, and shuts down cleanly on SIGTERM/SIGINT. */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp } from "./app.js";
import type { AppConfig } from "./config.js";
import { expectedMigration } from "./db/migrations.js";
import { createPool } from "./db/pool.js";
import { createRedis } from "./redis.js";

export interface RunningServer {
  app: FastifyInstance;
  /** Set when shutdown begins; responses then ask clients to close their keep-alive connection. */
  draining: { value: boolean };
}

export async function startServer(config: AppConfig, logger: Logger): Promise<RunningServer> {
  const pool = createPool(config.databaseUrl, config.dbPoolMax, logger);
  const redis = createRedis(config.redisUrl, logger);
  // Start even when Redis is down: ioredis keeps retrying, reads fall back to Postgres, /readyz says 503.
  redis.connect().catch((error: unknown) => logger.warn({ err: error }, "Redis not reachable yet; retrying"));

  const app = await buildApp({ config, pool, redis, logger, expectedMigration: await expectedMigration() });
  const draining = { value: false };
  // A request already in flight when shutdown starts would otherwise leave its keep-alive connection
  // open afterwards, and the server would wait for that idle connection until the shutdown bound.
  app.addHook("onSend", async (_request, reply) => {
    if (draining.value) reply.header("connection", "close");
  });
  // onClose runs after in-flight requests have finished, so no request loses its connections.
  app.addHook("onClose", async () => {
    await pool.end();
    redis.disconnect();
  });
  await app.listen({ port: config.port, host: config.host });
  logger.info({ release: config.release.id, revision: config.release.revision }, "catalog service started");
  return { app, draining };
}

/**
 * On SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish, close the pools, exit 0.
 * If that takes longer than `timeoutMs`, exit 1 so the orchestrator knows requests were cut.
 */
export function shutdownOnSignals({ app, draining }: RunningServer, timeoutMs: number, logger: Logger): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    draining.value = true;
    logger.info({ signal, timeoutMs }, "shutting down: finishing in-flight requests");
    setTimeout(() => {
      logger.error({ timeoutMs }, "shutdown timed out; exiting with requests still open");
      process.exit(1);
    }, timeoutMs).unref();
    app.close().then(
      () => {
        logger.info("shutdown complete");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}
