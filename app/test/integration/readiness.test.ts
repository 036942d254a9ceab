import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EphemeralRedis, startRedis } from "../../../test/harness/ephemeral-redis.js";
import { waitUntil } from "../../../test/harness/network.js";
import { type AppUnderTest, startApp } from "../support/app-under-test.js";

describe("/readyz", () => {
  let redis: EphemeralRedis;
  let t: AppUnderTest;
  beforeAll(async () => {
    // A Redis of this file's own, so stopping it cannot disturb the other tests.
    redis = await startRedis();
    t = await startApp({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const readyz = async () => {
    const response = await t.app.inject({ url: "/readyz" });
    return { status: response.statusCode, body: response.json() };
  };

  it("turns 503 when Redis stops and 200 again when it is back", async () => {
    expect(await readyz()).toEqual({
      status: 200,
      body: { status: "ready", checks: { postgres: "ok", schema: "ok", redis: "ok" } },
    });

    await redis.pause();
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe("not ready");
    expect(down.body.checks.postgres).toBe("ok");
    expect(down.body.checks.redis).not.toBe("ok");
    // Liveness is not readiness: the process is fine, only a dependency is gone.
    expect((await t.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    // Reads keep working from Postgres while the cache is away.
    expect((await t.app.inject({ url: "/products" })).statusCode).toBe(200);

    await redis.start();
    await waitUntil("readyz back to 200", async () => (await readyz()).status === 200, 15_000);
  });

  it("stays ready when a newer release has migrated past it, so a rolled-back release keeps serving", async () => {
    // What a newer release's expand migration leaves behind when that release is rolled back.
    await t.pool.query(
      "INSERT INTO pgmigrations (name, run_on) VALUES ('9999999999999_newer-release', now())",
    );
    try {
      expect(await readyz()).toMatchObject({ status: 200, body: { checks: { schema: "ok" } } });
    } finally {
      await t.pool.query("DELETE FROM pgmigrations WHERE name = '9999999999999_newer-release'");
    }
  });

  it("turns 503 naming the migrate command when the schema is behind the release", async () => {
    const ahead = await startApp({
      env: { REDIS_URL: redis.url },
      expectedMigration: "9999999999999_from-the-future",
    });
    try {
      const response = await ahead.app.inject({ url: "/readyz" });
      expect(response.statusCode).toBe(503);
      expect(response.json().checks.schema).toContain("migrate");
    } finally {
      await ahead.close();
    }
  });
});
