import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AppUnderTest, admin, createProduct, resetData, startApp } from "../support/app-under-test.js";

let t: AppUnderTest;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t.close());
beforeEach(resetData);

async function cacheCounter(name: "cache_hits_total" | "cache_misses_total"): Promise<number> {
  const text = (await t.app.inject({ url: "/metrics" })).body;
  const line = text.split("\n").find((l) => l.startsWith(`${name}{cache="products"}`));
  return line ? Number(line.split(" ")[1]) : 0;
}

/**
 * Counts the round trips a Redis client makes: a command sent while no other is awaiting its reply starts
 * a new one; commands sent together (pipelined, or in flight at once) share it.
 */
function countRoundTrips(redis: Redis): { trips: () => number; stop: () => void } {
  const send = redis.sendCommand;
  let inFlight = 0;
  let trips = 0;
  redis.sendCommand = function (this: Redis, command, stream) {
    if (inFlight === 0) trips++;
    inFlight++;
    const settled = () => {
      inFlight--;
    };
    command.promise.then(settled, settled);
    return send.call(this, command, stream);
  } as Redis["sendCommand"];
  return {
    trips: () => trips,
    stop: () => {
      redis.sendCommand = send;
    },
  };
}

describe("product cache", () => {
  it("serves a repeated read from Redis, not Postgres", async () => {
    const product = await createProduct(t.app, { name: "Cached" });
    const [hits0, misses0] = [
      await cacheCounter("cache_hits_total"),
      await cacheCounter("cache_misses_total"),
    ];
    await t.app.inject({ url: `/products/${product.id}` });
    // Change the row behind the cache's back: a cached read must not see it.
    await t.pool.query("UPDATE products SET name = 'Changed directly' WHERE id = $1", [product.id]);
    const second = await t.app.inject({ url: `/products/${product.id}` });
    expect(second.json().name).toBe("Cached");
    expect(await cacheCounter("cache_misses_total")).toBe(misses0 + 1);
    expect(await cacheCounter("cache_hits_total")).toBe(hits0 + 1);
  });

  it("drops cached reads on every write: update, order, delete, create", async () => {
    const product = await createProduct(t.app, { name: "Old", stock: 5 });
    await t.app.inject({ url: `/products/${product.id}` });
    await t.app.inject({ url: "/products" });

    await t.app.inject({
      method: "PATCH",
      url: `/products/${product.id}`,
      headers: admin,
      payload: { name: "New" },
    });
    expect((await t.app.inject({ url: `/products/${product.id}` })).json().name).toBe("New");

    await t.app.inject({ method: "POST", url: "/orders", payload: { productId: product.id, quantity: 2 } });
    expect((await t.app.inject({ url: `/products/${product.id}` })).json().stock).toBe(3);
    expect((await t.app.inject({ url: "/products" })).json().items[0].stock).toBe(3);

    const other = await createProduct(t.app, { sku: "SECOND" });
    expect((await t.app.inject({ url: "/products" })).json().items.map((p: { id: number }) => p.id)).toEqual([
      product.id,
      other.id,
    ]);

    await t.app.inject({ method: "DELETE", url: `/products/${other.id}`, headers: admin });
    expect((await t.app.inject({ url: `/products/${other.id}` })).statusCode).toBe(404);
    expect((await t.app.inject({ url: "/products" })).json().items).toHaveLength(1);
  });

  it("answers a cached product read in one Redis round trip, the rate limit included", async () => {
    const product = await createProduct(t.app, { name: "One trip" });
    const first = await t.app.inject({ url: `/products/${product.id}` });
    const counter = countRoundTrips(t.redis);
    try {
      const cached = await t.app.inject({ url: `/products/${product.id}` });
      expect(counter.trips()).toBe(1);
      // Sent as stored, it is byte for byte what the route's serializer wrote on the miss.
      expect(cached.body).toBe(first.body);
      expect(cached.headers["content-type"]).toBe(first.headers["content-type"]);
      expect(cached.headers["x-ratelimit-remaining"]).toBeDefined();
    } finally {
      counter.stop();
    }
  });

  it("drops only the ordered product's entry: other products and the list's pages stay cached", async () => {
    const ordered = await createProduct(t.app, { sku: "ORDERED", stock: 5 });
    const other = await createProduct(t.app, { sku: "OTHER", name: "Other" });
    for (let i = 0; i < 2; i++) {
      // The first list read caches the page's ids, the second its products' entries.
      await t.app.inject({ url: "/products" });
      await t.app.inject({ url: `/products/${other.id}` });
    }
    const listGeneration = await t.redis.get("catalog:gen:list");
    // Behind the cache's back: a read served from the cache still says "Other".
    await t.pool.query("UPDATE products SET name = 'Changed directly' WHERE id = $1", [other.id]);

    const order = await t.app.inject({
      method: "POST",
      url: "/orders",
      payload: { productId: ordered.id, quantity: 2 },
    });
    expect(order.statusCode).toBe(201);

    expect(await t.redis.get("catalog:gen:list")).toBe(listGeneration);
    expect((await t.app.inject({ url: `/products/${other.id}` })).json().name).toBe("Other");
    expect((await t.app.inject({ url: `/products/${ordered.id}` })).json().stock).toBe(3);
    const page = (await t.app.inject({ url: "/products" })).json();
    expect(page.items.map((p: { name: string; stock: number }) => [p.name, p.stock])).toEqual([
      ["Mug", 3],
      ["Other", 10],
    ]);
  });

  it("answers a page from Postgres when one of its cached products has gone", async () => {
    const kept = await createProduct(t.app, { sku: "KEPT" });
    const gone = await createProduct(t.app, { sku: "GONE" });
    await t.app.inject({ url: "/products" });
    // Deleted behind the cache's back, so the list's generation is not bumped: the page's ids are stale.
    await t.pool.query("DELETE FROM products WHERE id = $1", [gone.id]);
    const page = (await t.app.inject({ url: "/products" })).json();
    expect(page.items.map((p: { id: number }) => p.id)).toEqual([kept.id]);
  });
});
