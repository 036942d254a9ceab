/**
 * Throughput and latency of the service's hot paths, measured side by side in one run:
 *   - cached product read   GET /products/:id   (served from Redis after the first read)
 *   - uncached read         GET /orders/:id     (same shape: one row by primary key, straight from Postgres)
 *   - order creation        POST /orders        (a transaction that takes stock and inserts)
 * The uncached read is the baseline that shows what the cache is worth.
 *
 *   npx tsx bench/app/throughput.ts [--seconds 10] [--connections 20]
 *
 * Starts its own Postgres and Redis (the test harness) and the built service (app/dist), all on 127.0.0.1.
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { execa } from "execa";
import pg from "pg";
import { migrateUp } from "../../app/src/db/migrations.js";
import { startPostgres } from "../../test/harness/ephemeral-postgres.js";
import { startRedis } from "../../test/harness/ephemeral-redis.js";
import { freePort, waitUntil } from "../../test/harness/network.js";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "10" }, connections: { type: "string", default: "20" } },
});
const duration = Number(values.seconds);
const connections = Number(values.connections);

interface Row {
  scenario: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function measure(scenario: string, options: autocannon.Options): Promise<Row> {
  const result = await autocannon({ connections, duration, ...options });
  return {
    scenario,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

await execa("npm", ["run", "build", "-w", "app"], { stdio: "inherit" });
const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
let service: ReturnType<typeof execa> | undefined;
try {
  const databaseUrl = await postgres.createDatabase("bench");
  await migrateUp(databaseUrl);
  const db = new pg.Pool({ connectionString: databaseUrl });
  const product = await db.query<{ id: number }>(
    "INSERT INTO products (sku, name, price_cents, stock) VALUES ('BENCH', 'Bench', 100, 1000000000) RETURNING id",
  );
  const productId = product.rows[0]?.id;
  const order = await db.query<{ id: number }>(
    "INSERT INTO orders (product_id, quantity, unit_price_cents, total_cents) VALUES ($1, 1, 100, 100) RETURNING id",
    [productId],
  );
  await db.end();

  const port = await freePort();
  service = execa("node", ["app/dist/cli.js", "serve"], {
    env: {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      ADMIN_TOKEN: "bench-admin-token-0123456789",
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      RATE_LIMIT_MAX: "1000000",
      DB_POOL_MAX: "20",
    },
    stdout: "ignore",
    reject: false,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitUntil("service", async () => (await fetch(`${base}/healthz`)).ok, 20_000);

  const rows = [
    await measure("cached product read", { url: `${base}/products/${productId}` }),
    await measure("uncached read (baseline)", { url: `${base}/orders/${order.rows[0]?.id}` }),
    await measure("order creation", {
      url: `${base}/orders`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId, quantity: 1 }),
    }),
  ];
  console.log(`\n${duration}s per scenario, ${connections} connections, 127.0.0.1\n`);
  console.table(rows);
  const [cached, baseline] = rows;
  if (cached && baseline) {
    console.log(
      `cached read vs uncached read: ${(cached.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}x req/s`,
    );
  }
} finally {
  service?.kill("SIGTERM");
  await service;
  await Promise.all([postgres.stop(), redis.stop()]);
}
