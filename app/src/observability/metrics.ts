/**
 * Prometheus metrics, on a registry of the app's own so that several app instances in one process never clash.
 * Names follow Prometheus' conventions, checked by `promtool check metrics` in the tests: `_total` only on
 * counters, base units (`_bytes`, `_seconds`) in the name.
 */

import { getHeapStatistics } from "node:v8";
import type pg from "pg";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { readContainerMemoryLimit } from "./memory-limit.js";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status_code">;
  httpDuration: Histogram<"method" | "route" | "status_code">;
  cacheHits: Counter<"cache">;
  cacheMisses: Counter<"cache">;
  cacheErrors: Counter<"cache">;
  ordersPlaced: Counter;
}

export interface MetricsOptions {
  pool: pg.Pool;
  release: { id: string; revision: string };
}

/**
 * prom-client's gauges of active handles, requests and resources end in `_total`, which Prometheus keeps for
 * counters; the same numbers by type (`nodejs_active_handles{type}` …) stay, so their sum loses nothing.
 */
const MISNAMED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export function createMetrics({ pool, release }: MetricsOptions): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const labelNames = ["method", "route", "status_code"] as const;
  const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await read());
      },
    });

  gauge("db_pool_connections_open", "Connections open in the Postgres pool", () => pool.totalCount);
  gauge("db_pool_connections_idle", "Idle connections in the Postgres pool", () => pool.idleCount);
  gauge("db_pool_connections_max", "The most connections the Postgres pool opens", () => pool.options.max);
  gauge("db_pool_clients_waiting", "Queries waiting for a pool connection", () => pool.waitingCount);

  // The two limits memory can hit: V8's heap limit (a "heap out of memory" crash) and the container's
  // (the kernel's OOM killer). The alert compares the heap in use and the resident set with them.
  gauge("app_heap_limit_bytes", "V8's heap size limit", () => getHeapStatistics().heap_size_limit);
  const containerLimit = readContainerMemoryLimit();
  if (containerLimit !== null)
    gauge(
      "app_container_memory_limit_bytes",
      "The memory limit of the app's container (cgroup)",
      () => containerLimit,
    );

  new Gauge({
    name: "app_build_info",
    help: "Always 1; the release and revision this process runs (Grafana's deploy annotations read it)",
    labelNames: ["release", "revision"],
    registers: [registry],
  }).set({ release: release.id, revision: release.revision }, 1);

  // The business panel's stock, read at each scrape (two aggregate queries every 15 s). With the database
  // down the value is NaN rather than a failed scrape, so the instance still counts as up.
  const fromProducts = (sql: string) => async () => {
    try {
      return Number((await pool.query<{ value: string }>(sql)).rows[0]?.value ?? Number.NaN);
    } catch {
      return Number.NaN;
    }
  };
  gauge(
    "catalog_stock_units",
    "Units in stock, summed over every product",
    fromProducts("SELECT coalesce(sum(stock), 0) AS value FROM products"),
  );
  gauge(
    "catalog_products_out_of_stock",
    "Products with no stock left",
    fromProducts("SELECT count(*) AS value FROM products WHERE stock = 0"),
  );

  return {
    registry,
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests by route and status",
      labelNames,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request latency by route and status",
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: "cache_hits_total",
      help: "Cache hits",
      labelNames: ["cache"],
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: "cache_misses_total",
      help: "Cache misses",
      labelNames: ["cache"],
      registers: [registry],
    }),
    cacheErrors: new Counter({
      name: "cache_errors_total",
      help: "Cache operations that failed (Redis unreachable); the read fell back to Postgres",
      labelNames: ["cache"],
      registers: [registry],
    }),
    ordersPlaced: new Counter({
      name: "orders_placed_total",
      help: "Orders placed (stock taken and the order stored)",
      registers: [registry],
    }),
  };
}
