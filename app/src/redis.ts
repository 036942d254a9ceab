import type { FastifyBaseLogger as Logger } from "fastify";
import { Redis } from "ioredis";

export type { Redis };

/**
 * Without an offline queue, commands fail at once while Redis is down instead of piling up, so the
 * cache falls back to Postgres and /readyz reports the outage; ioredis keeps reconnecting in the background.
 * Auto-pipelining sends the commands issued in one turn of the event loop in one write: a cached read's
 * rate-limit increment and cache lookup, and those of the other requests in flight, leave together.
 */
export function createRedis(redisUrl: string, log: Logger): Redis {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    enableAutoPipelining: true,
  });
  let wasUp = false;
  redis.on("ready", () => {
    wasUp = true;
    log.info("Redis connected");
  });
  redis.on("error", (error) => {
    if (wasUp) log.warn({ err: error }, "Redis connection error");
    wasUp = false;
  });
  return redis;
}
