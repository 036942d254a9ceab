import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
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
    expect(text).toMatch(/db_pool_connections_total \d+/);
    expect(text).toMatch(/cache_hits_total\{cache="products"\} [1-9]/);
    expect(text).toMatch(/cache_misses_total\{cache="products"\} [1-9]/);
  });
});
