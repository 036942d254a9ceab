import { hostname } from "node:os";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { promtool } from "../../../test/harness/promtool.js";
import {
  ADMIN_TOKEN,
  type AppUnderTest,
  admin,
  createProduct,
  resetData,
  startApp,
} from "../support/app-under-test.js";

let t: AppUnderTest;
beforeAll(async () => {
  t = await startApp({ env: { RELEASE_ID: "2026.11.23-1", GIT_REVISION: "abc1234" } });
});
afterAll(async () => t.close());
beforeEach(resetData);

describe("observability", () => {
  it("reports the release and revision it runs", async () => {
    expect((await t.app.inject({ url: "/version" })).json()).toEqual({
      release: "2026.11.23-1",
      revision: "abc1234",
    });
  });

  it("gives every request an id, keeps a caller's id, and logs it on every line", async () => {
    const generated = await t.app.inject({ url: "/healthz" });
    expect(generated.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.app.inject({ url: "/products", headers: { "x-request-id": "edge-42" } });
    expect(kept.headers["x-request-id"]).toBe("edge-42");
    const junk = await t.app.inject({ url: "/healthz", headers: { "x-request-id": "bad id\nwith newline" } });
    expect(junk.headers["x-request-id"]).not.toContain("bad");

    const lines = t.logs.filter((line) => line.requestId === "edge-42");
    expect(lines.map((l) => l.msg)).toEqual(["incoming request", "request completed"]);
    // Liveness polls are not logged; everything else is.
    expect(t.logs.filter((line) => line.requestId === generated.headers["x-request-id"])).toEqual([]);
    for (const line of t.logs)
      expect(line).toMatchObject({ level: expect.any(String), time: expect.any(String) });
  });

  it("never logs a secret, even when a request carries one or fails", async () => {
    await createProduct(t.app);
    await t.app.inject({ method: "POST", url: "/products", headers: admin, payload: { nonsense: true } });
    await t.app.inject({
      method: "DELETE",
      url: "/products/1",
      headers: { authorization: "Bearer guess-guess-guess" },
    });
    const databasePassword = decodeURIComponent(new URL(inject("databaseUrl")).password);
    const redisPassword = decodeURIComponent(new URL(inject("redisUrl")).password);
    const everything = JSON.stringify(t.logs);
    expect(t.logs.length).toBeGreaterThan(4);
    for (const secret of [ADMIN_TOKEN, databasePassword, redisPassword, "guess-guess-guess"]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("exposes request counts and latency by route, the DB pool and cache counters", async () => {
    const product = await createProduct(t.app);
    await t.app.inject({ url: `/products/${product.id}` });
    await t.app.inject({ url: `/products/${product.id}` });
    await t.app.inject({ url: "/products/999999" });
    const response = await t.app.inject({ url: "/metrics" });
    expect(response.headers["content-type"]).toContain("text/plain");
    const text = response.body;
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/products\/:id",status_code="200"\} 2/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/products\/:id",status_code="404"\} 1/);
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/products\/:id"/,
    );
    expect(text).toMatch(/^db_pool_connections_open \d+$/m);
    expect(text).toMatch(/^db_pool_connections_max 10$/m);
    expect(text).toMatch(/^app_heap_limit_bytes [1-9]\d+$/m);
    expect(text).toMatch(/cache_hits_total\{cache="products"\} [1-9]/);
    expect(text).toMatch(/cache_misses_total\{cache="products"\} [1-9]/);
  });

  it("names every metric as Prometheus expects: promtool check metrics finds nothing", async () => {
    await createProduct(t.app);
    await t.app.inject({ url: "/products" });
    const exposition = (await t.app.inject({ url: "/metrics" })).body;
    const check = await promtool(["check", "metrics"], { stdin: exposition });
    expect(check.output).toBe("");
    expect(check.exitCode).toBe(0);
  });

  it("counts orders and reports the stock, for the dashboard's business panel", async () => {
    const mug = await createProduct(t.app, { stock: 5 });
    await createProduct(t.app, { stock: 0 });
    const metric = async (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, "m").exec((await t.app.inject({ url: "/metrics" })).body)?.[1]);
    const before = await metric("orders_placed_total");
    const order = await t.app.inject({
      method: "POST",
      url: "/orders",
      payload: { productId: mug.id, quantity: 2 },
    });
    expect(order.statusCode).toBe(201);
    // Refused for want of stock: not an order placed.
    await t.app.inject({ method: "POST", url: "/orders", payload: { productId: mug.id, quantity: 9 } });
    expect(await metric("orders_placed_total")).toBe(before + 1);
    expect(await metric("catalog_stock_units")).toBe(3);
    expect(await metric("catalog_products_out_of_stock")).toBe(1);
  });

  it("exports the release it runs as app_build_info, which Grafana's deploy annotations read", async () => {
    const text = (await t.app.inject({ url: "/metrics" })).body;
    expect(text).toMatch(/^app_build_info\{release="2026\.11\.23-1",revision="abc1234"\} 1$/m);
  });

  it("writes the release and the host on every log line, so two containers of a switch are told apart", async () => {
    await t.app.inject({ url: "/products" });
    expect(t.logs.length).toBeGreaterThan(0);
    for (const line of t.logs) expect(line).toMatchObject({ release: "2026.11.23-1", hostname: hostname() });
  });

  it("answers /health as /readyz does", async () => {
    const [health, readyz] = await Promise.all([
      t.app.inject({ url: "/health" }),
      t.app.inject({ url: "/readyz" }),
    ]);
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual(readyz.json());
    expect(health.json()).toMatchObject({ status: "ready" });
  });
});
