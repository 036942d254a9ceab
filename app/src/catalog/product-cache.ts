/**
 * Read-through cache of product reads in Redis.
 *
 * Each product has one entry, stored with the generation of that product it was loaded under, and every
 * write to the product bumps its generation. A reader asks for the entry and the current generation in one
 * MGET, one round trip; the entry answers only if its generation is the current one. On a miss the reader
 * loads Postgres and stores the result under the generation it saw *before* loading, so a slow reader that
 * loaded stale data stores it under a generation already past: invalidation never races with a fill.
 *
 * A page of the list caches only which products are on it (ids and the next cursor), under the list's
 * generation, which only creating or deleting a product bumps; what each product says comes from its own
 * entry. So an order, which changes one product's stock, costs that product's entry and nothing else:
 * list pages stay cached and still show the new stock.
 *
 * Redis being down is not an error for readers; they fall back to Postgres.
 */

import type { FastifyBaseLogger as Logger } from "fastify";
import type { Redis } from "ioredis";
import type { Page } from "../db/pagination.js";
import type { Metrics } from "../observability/metrics.js";
import type { Product } from "./product-store.js";

// Entry keys differ from those of releases that kept one key per generation, so a release running beside
// an older one during a switch never reads an entry in the other's format.
const LIST_GENERATION = "catalog:gen:list";
const productGeneration = (id: number) => `catalog:gen:product:${id}`;
const productEntry = (id: number) => `catalog:entry:product:${id}`;
const pageEntry = (limit: number, after: number) => `catalog:entry:page:${limit}:${after}`;

/** What a list page entry holds: the page without its products' contents. */
interface PageIds {
  ids: number[];
  nextAfter: number | null;
}

/** An entry is `<generation>:<json>`: its JSON while that generation is the current one, else undefined. */
export function currentJson(
  entry: string | null | undefined,
  generation: string | null | undefined,
): string | undefined {
  const prefix = `${generation ?? "0"}:`;
  return entry?.startsWith(prefix) ? entry.slice(prefix.length) : undefined;
}

const entryValue = (generation: string | null | undefined, json: string) => `${generation ?? "0"}:${json}`;

/**
 * The answer of a lookup: the cached value, or what to load and store. Taking the lookup apart from the
 * load lets a route send its lookup to Redis together with another command (the rate limit).
 */
export interface Lookup<T, Loader = () => Promise<T>> {
  orLoad(load: Loader): Promise<T>;
}

export interface PageLoaders {
  page: () => Promise<Page<Product>>;
  /** The products with these ids that still exist, in any order. */
  products: (ids: number[]) => Promise<Product[]>;
}

export class ProductCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /**
   * One product, as the JSON the API answers: one MGET, then Postgres only on a miss. A hit is sent as it
   * is stored, without parsing it and serializing it again.
   */
  async lookupProduct(id: number): Promise<Lookup<string | null, () => Promise<Product | null>>> {
    const read = await this.read([productEntry(id), productGeneration(id)]);
    const [entry, generation] = read ?? [];
    const json = currentJson(entry, generation);
    if (read) this.count(json !== undefined);
    if (json !== undefined) return { orLoad: async () => json };
    return {
      orLoad: async (load) => {
        const product = await load();
        if (!product) return null;
        const loaded = JSON.stringify(product);
        if (read) await this.store([[productEntry(id), entryValue(generation, loaded)]]);
        return loaded;
      },
    };
  }

  /**
   * One page of the list: one MGET for the page's ids, a second for its products' entries. Products whose
   * entries are stale are loaded by id and stored; the page is loaded afresh only when its ids are not
   * cached or one of its products has gone since.
   */
  async lookupPage(limit: number, after: number): Promise<Lookup<Page<Product>, PageLoaders>> {
    const read = await this.read([pageEntry(limit, after), LIST_GENERATION]);
    if (!read) return { orLoad: (loaders) => loaders.page() };
    const [entry, generation] = read;
    const json = currentJson(entry, generation);
    if (json === undefined) {
      this.count(false);
      return {
        orLoad: async (loaders) => {
          const page = await loaders.page();
          const ids: PageIds = { ids: page.items.map((product) => product.id), nextAfter: page.nextAfter };
          await this.store([[pageEntry(limit, after), entryValue(generation, JSON.stringify(ids))]]);
          return page;
        },
      };
    }
    const { ids, nextAfter } = JSON.parse(json) as PageIds;
    return {
      orLoad: async (loaders) => {
        const items = await this.productsOfPage(ids, loaders);
        this.count(items !== undefined);
        // A product of the page has gone: the delete has bumped the list's generation, so the next read
        // stores the page afresh; this one answers from Postgres.
        return items ? { items, nextAfter } : loaders.page();
      },
    };
  }

  /** After a write that changes what one product says (its stock, a field); the list's pages stay. */
  async productChanged(id: number): Promise<void> {
    await this.bump([productGeneration(id)], id);
  }

  /** After a product is created or deleted: the list's pages no longer hold the right ids. */
  async productAddedOrRemoved(id: number): Promise<void> {
    await this.bump([productGeneration(id), LIST_GENERATION], id);
  }

  /** The page's products from their entries, those stale loaded and stored; undefined if one has gone. */
  private async productsOfPage(ids: number[], loaders: PageLoaders): Promise<Product[] | undefined> {
    const read = await this.read([...ids.map(productEntry), ...ids.map(productGeneration)]);
    if (!read) return undefined;
    const generationOf = (index: number) => read[ids.length + index] ?? null;
    const cached = ids.map((_, index) => currentJson(read[index] ?? null, generationOf(index)));
    const staleIds = ids.filter((_, index) => cached[index] === undefined);
    const loaded = new Map(
      (staleIds.length ? await loaders.products(staleIds) : []).map((product) => [product.id, product]),
    );
    if (loaded.size < staleIds.length) return undefined;
    await this.store(
      staleIds.map((id) => [
        productEntry(id),
        entryValue(generationOf(ids.indexOf(id)), JSON.stringify(loaded.get(id))),
      ]),
    );
    return ids.map((id, index) => {
      const json = cached[index];
      return json === undefined ? (loaded.get(id) as Product) : (JSON.parse(json) as Product);
    });
  }

  /** The values of these keys, or undefined when Redis cannot answer (the reader goes to Postgres). */
  private async read(keys: string[]): Promise<(string | null)[] | undefined> {
    try {
      return await this.redis.mget(keys);
    } catch (error) {
      this.metrics.cacheErrors.inc({ cache: "products" });
      this.log.warn({ err: error }, "product cache unavailable; reading from Postgres");
      return undefined;
    }
  }

  private async store(entries: [key: string, value: string][]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, value] of entries) pipeline.set(key, value, "EX", this.ttlSeconds);
    try {
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    } catch (error) {
      this.metrics.cacheErrors.inc({ cache: "products" });
      this.log.warn({ err: error }, "could not fill product cache");
    }
  }

  private async bump(generations: string[], id: number): Promise<void> {
    const transaction = this.redis.multi();
    for (const key of generations) transaction.incr(key);
    try {
      await transaction.exec();
    } catch (error) {
      // Cannot invalidate: entries expire within the TTL. Reported loudly, since readers may see stale data.
      this.metrics.cacheErrors.inc({ cache: "products" });
      this.log.error({ err: error, productId: id }, "product cache invalidation failed");
    }
  }

  private count(hit: boolean): void {
    (hit ? this.metrics.cacheHits : this.metrics.cacheMisses).inc({ cache: "products" });
  }
}
