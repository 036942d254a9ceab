/**
 * Bad input from anyone, signed in or not, gets a 400 (or 401) saying what was wrong: it never reaches
 * Postgres, so it can never come back as a 500 or an error in the logs.
 */
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AppUnderTest, admin, createProduct, resetData, startApp } from "../support/app-under-test.js";

let t: AppUnderTest;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t.close());
beforeEach(async () => {
  await resetData();
  t.logs.length = 0;
});
// A request the app failed on logs at error level (pino 50); bad input must not.
afterEach(() => {
  expect(t.logs.filter((line) => Number(line.level) >= 50)).toEqual([]);
});

const INT4_MAX = 2_147_483_647;
const TOO_BIG = "99999999999";

async function send(request: InjectOptions): Promise<LightMyRequestResponse> {
  return t.app.inject(request);
}

/** A 400 whose one-line message names the bad parameter. */
function expectRefused(response: LightMyRequestResponse, parameter: string): void {
  expect(response.statusCode, response.body).toBe(400);
  const { error, message } = response.json();
  expect(error).toBe("Bad Request");
  expect(message).toMatch(new RegExp(`\\b${parameter}\\b`));
  expect(message).not.toContain("\n");
}

describe("ids and cursors out of Postgres's integer range", () => {
  it.each(["/products", "/orders"])(
    "GET %s answers 400 naming `after` or `limit`, to anyone",
    async (path) => {
      expectRefused(await send({ url: `${path}?after=${TOO_BIG}` }), "after");
      expectRefused(await send({ url: `${path}?after=${INT4_MAX + 1}` }), "after");
      expectRefused(await send({ url: `${path}?after=-1` }), "after");
      expectRefused(await send({ url: `${path}?limit=${TOO_BIG}` }), "limit");
    },
  );

  it("still pages up to the largest id a row can have", async () => {
    await createProduct(t.app);
    for (const path of ["/products", "/orders"]) {
      const response = await send({ url: `${path}?after=${INT4_MAX}` });
      expect(response.statusCode, path).toBe(200);
      expect(response.json()).toEqual({ items: [], nextAfter: null });
    }
  });

  it.each([
    ["GET", "/products/:id", {}],
    ["GET", "/orders/:id", {}],
    ["PATCH", "/products/:id", admin],
    ["DELETE", "/products/:id", admin],
  ] as const)("%s %s with an id past the range answers 400 naming `id`", async (method, route, headers) => {
    const request = (id: string): InjectOptions => ({
      method,
      url: route.replace(":id", id),
      headers,
      ...(method === "PATCH" ? { payload: { stock: 1 } } : {}),
    });
    expectRefused(await send(request(TOO_BIG)), "id");
    expectRefused(await send(request(String(INT4_MAX + 1))), "id");
  });

  it("POST /orders with a productId past the range answers 400 naming `productId`", async () => {
    const response = await send({
      method: "POST",
      url: "/orders",
      payload: { productId: Number(TOO_BIG), quantity: 1 },
    });
    expectRefused(response, "productId");
  });
});

describe("NUL bytes in stored text", () => {
  const valid = { sku: "MUG-1", name: "Mug", description: "350 ml", priceCents: 1200, stock: 5 };

  it.each(["sku", "name", "description"])("POST /products refuses a NUL in %s with 400", async (field) => {
    const response = await send({
      method: "POST",
      url: "/products",
      headers: admin,
      payload: { ...valid, [field]: "before\u0000after" },
    });
    expectRefused(response, field);
    expect(response.json().message).toContain("NUL");
    expect((await send({ url: "/products" })).json().items).toEqual([]);
  });

  it.each(["sku", "name", "description"])(
    "PATCH /products/:id refuses a NUL in %s with 400",
    async (field) => {
      const product = await createProduct(t.app, { sku: "KEEP", name: "Kept", description: "as is" });
      const response = await send({
        method: "PATCH",
        url: `/products/${product.id}`,
        headers: admin,
        payload: { [field]: "\u0000" },
      });
      expectRefused(response, field);
      expect((await send({ url: `/products/${product.id}` })).json()).toMatchObject({
        sku: "KEEP",
        name: "Kept",
        description: "as is",
      });
    },
  );
});

describe("admin routes without the token", () => {
  // Each request is one the schema would refuse; without the token, the caller must learn only that.
  const badRequests: [string, InjectOptions][] = [
    ["POST /products, wrong types", { method: "POST", url: "/products", payload: { sku: 5, name: [] } }],
    [
      "POST /products, not JSON",
      { method: "POST", url: "/products", payload: "{", headers: { "content-type": "application/json" } },
    ],
    ["PATCH /products/:id, empty body", { method: "PATCH", url: "/products/1", payload: {} }],
    ["PATCH /products/:id, bad id", { method: "PATCH", url: `/products/${TOO_BIG}`, payload: { stock: -1 } }],
    ["DELETE /products/:id, bad id", { method: "DELETE", url: "/products/abc" }],
  ];

  it.each(badRequests)("%s answers 401, not the schema's 400", async (_name, request) => {
    for (const authorization of [undefined, "Bearer not-the-token"]) {
      const headers = { ...(request.headers ?? {}), ...(authorization ? { authorization } : {}) };
      const response = await send({ ...request, headers });
      expect(response.statusCode, response.body).toBe(401);
      expect(response.headers["www-authenticate"]).toContain("Bearer");
      expect(response.json().message).not.toMatch(/body|params|sku|stock/);
    }
  });

  it.each(badRequests)("%s, with the token, answers 400", async (_name, request) => {
    const response = await send({ ...request, headers: { ...(request.headers ?? {}), ...admin } });
    expect(response.statusCode, response.body).toBe(400);
  });
});
