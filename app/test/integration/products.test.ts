import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AppUnderTest, admin, createProduct, resetData, startApp } from "../support/app-under-test.js";

let t: AppUnderTest;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t.close());
beforeEach(resetData);

describe("products", () => {
  it("creates, reads, updates and deletes a product", async () => {
    const created = await t.app.inject({
      method: "POST",
      url: "/products",
      headers: admin,
      payload: { sku: "MUG-1", name: "Mug", description: "350 ml", priceCents: 1200, stock: 5 },
    });
    expect(created.statusCode).toBe(201);
    const product = created.json();
    expect(product).toMatchObject({
      sku: "MUG-1",
      name: "Mug",
      description: "350 ml",
      priceCents: 1200,
      stock: 5,
    });
    expect(created.headers.location).toBe(`/products/${product.id}`);

    const read = await t.app.inject({ url: `/products/${product.id}` });
    expect(read.json()).toEqual(product);

    const updated = await t.app.inject({
      method: "PATCH",
      url: `/products/${product.id}`,
      headers: admin,
      payload: { priceCents: 1500 },
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ sku: "MUG-1", priceCents: 1500, stock: 5 });

    const deleted = await t.app.inject({ method: "DELETE", url: `/products/${product.id}`, headers: admin });
    expect(deleted.statusCode).toBe(204);
    expect((await t.app.inject({ url: `/products/${product.id}` })).statusCode).toBe(404);
  });

  it("lists products a page at a time", async () => {
    for (let i = 1; i <= 5; i++) await createProduct(t.app, { sku: `P-${i}` });
    const first = (await t.app.inject({ url: "/products?limit=2" })).json();
    expect(first.items.map((p: { sku: string }) => p.sku)).toEqual(["P-1", "P-2"]);
    const second = (await t.app.inject({ url: `/products?limit=2&after=${first.nextAfter}` })).json();
    expect(second.items.map((p: { sku: string }) => p.sku)).toEqual(["P-3", "P-4"]);
    const last = (await t.app.inject({ url: `/products?limit=2&after=${second.nextAfter}` })).json();
    expect(last).toMatchObject({ items: [{ sku: "P-5" }], nextAfter: null });
  });

  it("refuses writes without the admin token, or with a wrong one", async () => {
    const payload = { sku: "X", name: "X", priceCents: 1, stock: 1 };
    const none = await t.app.inject({ method: "POST", url: "/products", payload });
    const wrong = await t.app.inject({
      method: "POST",
      url: "/products",
      payload,
      headers: { authorization: "Bearer not-the-token" },
    });
    expect(none.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers["www-authenticate"]).toContain("Bearer");
    expect((await t.app.inject({ url: "/products" })).json().items).toEqual([]);
  });

  it("rejects invalid input with a message naming the field", async () => {
    const response = await t.app.inject({
      method: "POST",
      url: "/products",
      headers: admin,
      payload: { sku: "X", name: "X", priceCents: -5, stock: 1 },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain("priceCents");
    const emptyPatch = await t.app.inject({
      method: "PATCH",
      url: "/products/1",
      headers: admin,
      payload: {},
    });
    expect(emptyPatch.statusCode).toBe(400);
    expect((await t.app.inject({ url: "/products/abc" })).statusCode).toBe(400);
  });

  it("answers 409 for a duplicate sku and for deleting a product that has orders", async () => {
    const product = await createProduct(t.app, { sku: "DUP" });
    const duplicate = await t.app.inject({
      method: "POST",
      url: "/products",
      headers: admin,
      payload: { sku: "DUP", name: "Other", priceCents: 1, stock: 1 },
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().message).toContain("DUP");

    await t.app.inject({ method: "POST", url: "/orders", payload: { productId: product.id, quantity: 1 } });
    const deleted = await t.app.inject({ method: "DELETE", url: `/products/${product.id}`, headers: admin });
    expect(deleted.statusCode).toBe(409);
    expect((await t.app.inject({ url: `/products/${product.id}` })).statusCode).toBe(200);
  });
});
