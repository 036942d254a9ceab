/**
 * Read-through cache of product reads in Redis.
 *
 * Keys carry a generation number that every write bumps. A reader fetches the generation *before* it
 * reads Postgres, so a slow reader that loaded stale data can only store it under a generation nobody
 * asks for any more: invalidation never races with a concurrent fill. Redis being down is not an
 * error for readers; they fall back to Postgres.
 */

import type { FastifyBaseLogger as Logger } from "fastify";
import type { Redis } from "ioredis";
import type { Page } from "../db/pagination.js";
import type { Metrics } from "../observability/metrics.js";
import type { Product } from "./product-store.js";

const LIST_GENERATION = "catalog:gen:list";
const productGeneration = (id: number) => `catalog:gen:product:${id}`;

export class ProductCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  product(id: number, load: () => Promise<Product | null>): Promise<Product | null> {
    return this.readThrough(productGeneration(id), (gen) => `catalog:product:${id}:${gen}`, load);
  }

  page(limit: number, after: number, load: () => Promise<Page<Product>>): Promise<Page<Product>> {
    return this.readThrough(LIST_GENERATION, (gen) => `catalog:list:${gen}:${limit}:${after}`, load);
  }

  /** Called after every write that changes what a product read returns (including stock). */
  async invalidate(id: number): Promise<void> {
    try {
      await this.redis.multi().incr(productGeneration(id)).incr(LIST_GENERATION).exec();
    } catch (error) {
      // Cannot invalidate: entries expire within the TTL. Reported loudly, since readers may see stale data.
      this.metrics.cacheErrors.inc({ cache: "products" });
      this.log.error({ err: error, productId: id }, "product cache invalidation failed");
    }
  }

  private async readThrough<T>(
    generationKey: string,
    keyFor: (gen: string) => string,
    load: () => Promise<T>,
  ) {
    let key: string | null = null;
    try {
      const gen = (await this.redis.get(generationKey)) ?? "0";
      key = keyFor(gen);
      const cached = await this.redis.get(key);
      if (cached !== null) {
        this.metrics.cacheHits.inc({ cache: "products" });
        return JSON.parse(cached) as T;
      }
      this.metrics.cacheMisses.inc({ cache: "products" });
    } catch (error) {
      this.metrics.cacheErrors.inc({ cache: "products" });
      this.log.warn({ err: error }, "product cache unavailable; reading from Postgres");
    }
    const value = await load();
    if (key !== null && value !== null) {
      await this.redis.set(key, JSON.stringify(value), "EX", this.ttlSeconds).catch((error: unknown) => {
        this.metrics.cacheErrors.inc({ cache: "products" });
        this.log.warn({ err: error }, "could not fill product cache");
      });
    }
    return value;
  }
}
