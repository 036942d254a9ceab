/**
 * Throughput and latency of the service's hot paths beside a plain baseline, in alternating rounds:
 *   - cached product read    GET /products/:id   (ours, served from Redis after the first read)
 *   - plain Fastify + Redis  GET /products/:id   (bench/app/plain-redis-server.ts: one Redis GET of the
 *                                                 same JSON, returned as it is; the goal is ours >= 70 %)
 *   - uncached read          GET /orders/:id     (for information: one row by primary key from Postgres)
 *   - order creation         POST /orders        (for information: one statement takes stock and inserts)
 *
 *   npm run bench:app -- [--rounds 3] [--seconds 5] [--connections 20]
 *
 * Starts its own Postgres and Redis (the test harness), the built service (app/dist) and the baseline,
 * each server its own process on 127.0.0.1; autocannon runs in this process.
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { execa, type ResultPromise } from "execa";
import { Redis } from "ioredis";
import pg from "pg";
import { migrateUp } from "../../app/src/db/migrations.js";
import { startPostgres } from "../../test/harness/ephemeral-postgres.js";
import { startRedis } from "../../test/harness/ephemeral-redis.js";
import { freePort, waitUntil } from "../../test/harness/network.js";
import { stopProcess } from "../../test/harness/process.js";
import { alternateRounds, figureTable, machineLine, positiveInteger, ratioOfMedians } from "../lib/rounds.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "20" },
  },
});
const rounds = positiveInteger("rounds", values.rounds, 20);
const seconds = positiveInteger("seconds", values.seconds, 120);
const connections = positiveInteger("connections", values.connections, 200);

const BASELINE_KEY = "bench:baseline:product";

interface Sample {
  requestsPerSecond: number;
  p99Ms: number;
  /** Answers that were not 2xx plus socket errors: a side that fails is not measured, it is broken. */
  failures: number;
}

async function load(options: autocannon.Options, duration = seconds): Promise<Sample> {
  const result = await autocannon({ connections, duration, ...options });
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors,
  };
}

async function startServer(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; process: ResultPromise }> {
  const port = await freePort();
  const child = execa("node", argv, {
    env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdout: "ignore",
    reject: false,
  });
  const url = `http://127.0.0.1:${port}`;
  // A server that exits (bad configuration, say) fails the bench at once with what it wrote.
  const exited = child.then((result) => {
    throw new Error(`${argv.join(" ")} exited (${result.exitCode}): ${result.stderr}`);
  });
  await Promise.race([
    waitUntil(argv.join(" "), async () => (await fetch(`${url}/healthz`)).ok, 20_000),
    exited,
  ]);
  exited.catch(() => undefined);
  return { url, process: child };
}

await execa("npm", ["run", "build", "-w", "app"], { stdio: "inherit" });
const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
const servers: ResultPromise[] = [];
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

  const app = await startServer(["app/dist/cli.js", "serve"], {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    ADMIN_TOKEN: "bench-admin-token-0123456789",
    LOG_LEVEL: "warn",
    // Every request comes from 127.0.0.1: a one-second window keeps the budget out of the way.
    RATE_LIMIT_MAX: "1000000",
    RATE_LIMIT_WINDOW_MS: "1000",
    DB_POOL_MAX: "20",
  });
  servers.push(app.process);
  const baseline = await startServer(["--import", "tsx", "bench/app/plain-redis-server.ts"], {
    REDIS_URL: redis.url,
    BASELINE_KEY,
  });
  servers.push(baseline.process);

  // The baseline serves the very JSON the app answers, from the same Redis.
  const productJson = await (await fetch(`${app.url}/products/${productId}`)).text();
  const client = new Redis(redis.url);
  await client.set(BASELINE_KEY, productJson);
  client.disconnect();

  const targets = {
    "cached read (ours)": { url: `${app.url}/products/${productId}` },
    "plain Fastify+Redis": { url: `${baseline.url}/products/${productId}` },
    "uncached read": { url: `${app.url}/orders/${order.rows[0]?.id}` },
    "order creation": {
      url: `${app.url}/orders`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId, quantity: 1 }),
    },
  } satisfies Record<string, autocannon.Options>;
  type Side = keyof typeof targets;
  const names = Object.keys(targets) as Side[];
  // A second of each side first, unmeasured, so no side's first sample pays for the JIT's warm-up.
  for (const name of names) await load(targets[name], 1);
  const sides = Object.fromEntries(names.map((name) => [name, () => load(targets[name])])) as Record<
    Side,
    () => Promise<Sample>
  >;

  console.log(`\n${seconds} s per side per round, ${connections} connections, 127.0.0.1`);
  const { samples, loadAverages } = await alternateRounds(rounds, sides);

  console.log(`\n${machineLine(rounds, loadAverages)}`);
  console.log(
    figureTable(
      names.flatMap((name) => [
        {
          label: `${name} req/s`,
          values: samples[name].map((s) => s.requestsPerSecond),
          unit: "req/s",
          digits: 0,
        },
        { label: `${name} p99`, values: samples[name].map((s) => s.p99Ms), unit: "ms", digits: 0 },
      ]),
    ),
  );
  const rate = (name: Side) => samples[name].map((s) => s.requestsPerSecond);
  const ours = ratioOfMedians(rate("cached read (ours)"), rate("plain Fastify+Redis"));
  console.log(
    `\ncached read / plain Fastify+Redis, medians of req/s: ${(ours * 100).toFixed(0)} % (goal >= 70 %)`,
  );
  const cacheWorth = ratioOfMedians(rate("cached read (ours)"), rate("uncached read"));
  console.log(`cached read / uncached read, medians of req/s: ${cacheWorth.toFixed(2)}x`);
  for (const name of names) {
    const failures = samples[name].reduce((sum, s) => sum + s.failures, 0);
    if (failures > 0)
      console.log(`warning: ${name} had ${failures} failed requests; its figures are not a measurement`);
  }
} finally {
  await Promise.all(servers.map((server) => stopProcess(server, "SIGTERM")));
  await Promise.all([postgres.stop(), redis.stop()]);
}
