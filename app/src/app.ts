/** Assembles the HTTP service from its plugins. Pure wiring: connections are made and owned by the caller. */
import { randomUUID } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import type { FastifyBaseLogger as Logger } from "fastify";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import type pg from "pg";
import { ProductCache } from "./catalog/product-cache.js";
import { ProductStore } from "./catalog/product-store.js";
import type { AppConfig } from "./config.js";
import { createMetrics } from "./observability/metrics.js";
import { OrderStore } from "./orders/order-store.js";
import { requireAdmin } from "./plugins/admin-auth.js";
import { apiDocs } from "./plugins/api-docs.js";
import { healthRoutes } from "./plugins/health.js";
import { metricsRoutes } from "./plugins/metrics.js";
import { orderRoutes } from "./plugins/orders.js";
import { productRoutes } from "./plugins/products.js";

export interface AppDeps {
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  /** The newest migration this build ships; /readyz compares it with the database. */
  expectedMigration: string | null;
}

const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp({
  config,
  pool,
  redis,
  logger,
  expectedMigration,
}: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    // Keep the caller's request id (nginx sets one) so a request can be followed across hops; reject junk.
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    logController: new LogController({
      requestIdLogLabel: "requestId",
      // Orchestrators poll liveness every few seconds; logging each poll would drown the real traffic.
      disableRequestLogging: (request) => request.url === "/healthz",
    }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  app.setErrorHandler((error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      return reply.code(400).send({ error: "Bad Request", message: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, "request failed");
      return reply.code(500).send({
        error: "Internal Server Error",
        message: "the request failed; quote the request id when reporting it",
        requestId: request.id,
      });
    }
    const { message } = error as Error;
    return reply.code(status).send({ error: status === 429 ? "Too Many Requests" : "Bad Request", message });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: "Not Found", message: `no route ${request.method} ${request.url}` }),
  );

  // First: the docs describe the routes declared after them, and stay outside the rate limit and the metrics.
  if (config.apiDocs) await app.register(apiDocs);

  // Counters live in Redis so every replica behind nginx shares one budget per client.
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    redis,
    nameSpace: "catalog:ratelimit:",
    // With Redis down, serve rather than refuse every request; /readyz reports the outage.
    skipOnError: true,
  });

  const metrics = createMetrics({ pool, release: config.release });
  const cache = new ProductCache(redis, config.cacheTtlSeconds, metrics, logger);
  await app.register(metricsRoutes, { metrics });
  await app.register(healthRoutes, { pool, redis, expectedMigration, release: config.release });
  await app.register(productRoutes, {
    store: new ProductStore(pool),
    cache,
    requireAdmin: requireAdmin(config.adminToken),
  });
  await app.register(orderRoutes, { store: new OrderStore(pool), cache, placed: metrics.ordersPlaced });
  return app;
}
