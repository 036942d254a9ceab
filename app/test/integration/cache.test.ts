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
});
