import pg from "pg";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { waitUntil } from "../../../test/harness/network.js";
import { ADMIN_TOKEN, resetData } from "../support/app-under-test.js";
import { runCli, type ServiceProcess, startService } from "../support/service-process.js";

const env = () => ({ DATABASE_URL: inject("databaseUrl"), REDIS_URL: inject("redisUrl"), ADMIN_TOKEN });

let service: ServiceProcess | undefined;
let locker: pg.Client | undefined;
beforeEach(resetData);
afterEach(async () => {
  await locker?.end();
  locker = undefined;
  service?.child.kill("SIGKILL");
  await service?.child;
  service = undefined;
});

/** Holds a row lock on the product so an order for it blocks: a slow request without a test-only endpoint. */
async function lockProduct(): Promise<{ productId: number; release: () => Promise<void> }> {
  locker = new pg.Client({ connectionString: inject("databaseUrl") });
  await locker.connect();
  const { rows } = await locker.query<{ id: number }>(
    "INSERT INTO products (sku, name, price_cents, stock) VALUES ('SLOW', 'Slow', 100, 5) RETURNING id",
  );
  const productId = rows[0]?.id as number;
  await locker.query("BEGIN");
  await locker.query("SELECT 1 FROM products WHERE id = $1 FOR UPDATE", [productId]);
  const client = locker;
  return { productId, release: async () => void (await client.query("COMMIT")) };
}

/**
 * Asked on a connection of its own: inside the locker's transaction, pg_stat_activity is a frozen snapshot.
 * The order is one statement that starts `WITH taken AS (UPDATE products …`; this query, which names the
 * same words, is never waiting on a lock.
 */
async function orderIsWaitingOnLock(): Promise<boolean> {
  const observer = new pg.Client({ connectionString: inject("databaseUrl") });
  await observer.connect();
  try {
    const { rows } = await observer.query(
      "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE products SET stock%'",
    );
    return rows.length > 0;
  } finally {
    await observer.end();
  }
}

describe("the service process", () => {
  it("on SIGTERM stops accepting, lets the in-flight request finish, and exits 0", async () => {
    const { productId, release } = await lockProduct();
    service = await startService(env());
    const inFlight = fetch(`${service.baseUrl}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId, quantity: 2 }),
    });
    await waitUntil("order blocked on the row lock", orderIsWaitingOnLock, 10_000);

    service.child.kill("SIGTERM");
    await waitUntil(
      "listener closed",
      async () =>
        await fetch(`${service?.baseUrl}/healthz`).then(
          () => false,
          () => true,
        ),
      5_000,
    );
    expect(service.child.exitCode).toBeNull(); // still finishing the order

    await release();
    const response = await inFlight;
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ productId, quantity: 2 });
    const exited = await service.child;
    expect(exited.exitCode).toBe(0);
    expect(exited.all).toContain("shutdown complete");
  });

  it("exits 1 when in-flight requests outlast the shutdown bound", async () => {
    const { productId, release } = await lockProduct();
    service = await startService({ ...env(), SHUTDOWN_TIMEOUT_MS: "300" });
    const inFlight = fetch(`${service.baseUrl}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId, quantity: 1 }),
    }).catch((error: unknown) => error);
    await waitUntil("order blocked on the row lock", orderIsWaitingOnLock, 10_000);
    service.child.kill("SIGTERM");
    const exited = await service.child;
    expect(exited.exitCode).toBe(1);
    expect(exited.all).toContain("shutdown timed out");
    await release();
    await inFlight;
  });

  it("refuses to start on bad configuration, naming every bad variable and not echoing secrets", async () => {
    const result = await runCli(["serve"], {
      REDIS_URL: "http://wrong-scheme",
      ADMIN_TOKEN: "short-secret",
      PORT: "eighty",
    });
    expect(result.exitCode).toBe(78);
    expect(result.all).toContain("DATABASE_URL is not set");
    expect(result.all).toContain("REDIS_URL is invalid: expected a redis://");
    expect(result.all).toContain("ADMIN_TOKEN is invalid: expected a secret of at least 16 characters");
    expect(result.all).toContain("PORT is invalid: expected an integer from 1 to 65535");
    expect(result.all).not.toContain("short-secret");
  });

  it("migrates idempotently, reports the schema version, and seeds demo data once, given only DATABASE_URL", async () => {
    // What compose gives the migrate service: no Redis URL, no admin token.
    const databaseOnly = { DATABASE_URL: inject("databaseUrl") };
    const migrate = await runCli(["migrate"], databaseOnly);
    expect(migrate.exitCode, migrate.all).toBe(0);
    expect(migrate.all).toContain('"applied":[]');

    const version = await runCli(["migration-version"], databaseOnly);
    expect(version.exitCode).toBe(0);
    const [current, expected] = (version.stdout as string).split("\n").map((line) => line.split(": ")[1]);
    expect(current).toMatch(/^\d+_catalog-and-orders$/);
    expect(current).toBe(expected);

    expect((await runCli(["seed"], databaseOnly)).all).toContain('"inserted":5');
    expect((await runCli(["seed"], databaseOnly)).all).toContain('"inserted":0');
  });
});
