/** Prometheus metrics, on a registry of the app's own so that several app instances in one process never clash. */

import type pg from "pg";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status_code">;
  httpDuration: Histogram<"method" | "route" | "status_code">;
  cacheHits: Counter<"cache">;
  cacheMisses: Counter<"cache">;
  cacheErrors: Counter<"cache">;
}

export function createMetrics(pool: pg.Pool): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ["method", "route", "status_code"] as const;
  const poolGauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  poolGauge("db_pool_connections_total", "Connections open in the Postgres pool", () => pool.totalCount);
  poolGauge("db_pool_connections_idle", "Idle connections in the Postgres pool", () => pool.idleCount);
  poolGauge("db_pool_clients_waiting", "Queries waiting for a pool connection", () => pool.waitingCount);
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
  };
}
