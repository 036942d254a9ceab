import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AppUnderTest, resetData, startApp } from "../support/app-under-test.js";

let t: AppUnderTest;
beforeAll(async () => {
  t = await startApp({ env: { RATE_LIMIT_MAX: "5", RATE_LIMIT_WINDOW_MS: "60000" } });
});
afterAll(async () => t.close());
beforeEach(resetData);

describe("rate limit", () => {
  it("answers 429 with Retry-After once a client exceeds its budget", async () => {
    const codes: number[] = [];
    let limited: Awaited<ReturnType<typeof t.app.inject>> | undefined;
    for (let i = 0; i < 8; i++) {
      const response = await t.app.inject({ url: "/products", remoteAddress: "203.0.113.7" });
      codes.push(response.statusCode);
      if (response.statusCode === 429) limited ??= response;
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(Number(limited?.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited?.json()).toMatchObject({ error: "Too Many Requests" });
    // Budgets are per client: another address is unaffected.
    expect((await t.app.inject({ url: "/products", remoteAddress: "203.0.113.8" })).statusCode).toBe(200);
  });

  it("never limits the health endpoints that orchestrators poll", async () => {
    const codes = new Set<number>();
    for (let i = 0; i < 10; i++)
      codes.add((await t.app.inject({ url: "/healthz", remoteAddress: "203.0.113.9" })).statusCode);
    expect([...codes]).toEqual([200]);
  });
});
