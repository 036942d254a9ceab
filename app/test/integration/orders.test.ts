import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OrderStore } from "../../src/orders/order-store.js";
import { type AppUnderTest, createProduct, resetData, startApp } from "../support/app-under-test.js";

let t: AppUnderTest;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t.close());
beforeEach(resetData);

const order = (productId: number, quantity: number) =>
  t.app.inject({ method: "POST", url: "/orders", payload: { productId, quantity } });

describe("orders", () => {
  it("places an order, takes the stock and prices it", async () => {
    const product = await createProduct(t.app, { priceCents: 250, stock: 10 });
    const placed = await order(product.id, 3);
    expect(placed.statusCode).toBe(201);
    const body = placed.json();
    expect(body).toMatchObject({ productId: product.id, quantity: 3, unitPriceCents: 250, totalCents: 750 });
    expect((await t.app.inject({ url: `/orders/${body.id}` })).json()).toEqual(body);
    expect((await t.app.inject({ url: "/orders" })).json().items).toEqual([body]);
    expect((await t.app.inject({ url: `/products/${product.id}` })).json().stock).toBe(7);
  });

  it("refuses more than the stock and leaves the stock alone", async () => {
    const product = await createProduct(t.app, { stock: 2 });
    const refused = await order(product.id, 3);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ available: 2 });
    expect((await t.app.inject({ url: `/products/${product.id}` })).json().stock).toBe(2);
  });

  it("answers 404 for an unknown product and 400 for a bad quantity", async () => {
    expect((await order(999, 1)).statusCode).toBe(404);
    const product = await createProduct(t.app);
    expect((await order(product.id, 0)).statusCode).toBe(400);
    expect((await t.app.inject({ url: "/orders/12345" })).statusCode).toBe(404);
  });

  it("never oversells under concurrent orders", async () => {
    const product = await createProduct(t.app, { stock: 10 });
    const results = await Promise.all(Array.from({ length: 40 }, () => order(product.id, 1)));
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(10);
    expect(codes.filter((c) => c === 409)).toHaveLength(30);
    const { rows } = await t.pool.query<{ stock: number; sold: string }>(
      "SELECT p.stock, (SELECT coalesce(sum(quantity), 0) FROM orders WHERE product_id = p.id) AS sold FROM products p WHERE id = $1",
      [product.id],
    );
    expect(rows[0]).toEqual({ stock: 0, sold: "10" });
  });

  it("places an order in one statement, and asks a second only to say why it refused", async () => {
    const product = await createProduct(t.app, { priceCents: 300, stock: 2 });
    const statements: string[] = [];
    const counting = {
      query: (text: string, values: unknown[]) => {
        statements.push(text);
        return t.pool.query(text, values);
      },
    } as unknown as pg.Pool;
    const store = new OrderStore(counting);

    expect(await store.place(product.id, 2)).toMatchObject({ outcome: "placed", order: { totalCents: 600 } });
    expect(statements).toHaveLength(1);
    expect(await store.place(product.id, 1)).toEqual({ outcome: "insufficient_stock", available: 0 });
    expect(await store.place(product.id + 1000, 1)).toEqual({ outcome: "unknown_product" });
    expect(statements).toHaveLength(5);
  });
});
