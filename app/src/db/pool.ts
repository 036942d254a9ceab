import type { FastifyBaseLogger as Logger } from "fastify";
import pg from "pg";

export type Pool = pg.Pool;

export function createPool(databaseUrl: string, max: number, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 10_000,
    // Fail fast when Postgres is down, so /readyz answers instead of hanging.
    connectionTimeoutMillis: 3_000,
    application_name: "catalog",
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", (error) => log.warn({ err: error }, "idle Postgres connection failed"));
  return pool;
}
