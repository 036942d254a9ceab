/**
 * Throughput and latency of the app through nginx (HTTPS, the production path) against the app
 * straight (plain HTTP on 127.0.0.1), measured in the same run, the two sides alternating over rounds.
 *   npx tsx bench/nginx/run.ts [--rounds 3] [--seconds 10] [--connections 32]
 * (BENCH_SECONDS and BENCH_CONNECTIONS still set the defaults of the last two.)
 * nginx runs the repository's configuration with one change: the per-client rate limit is lifted,
 * since every request comes from 127.0.0.1 and would otherwise be answered 429.
 */
import { parseArgs } from "node:util";
import { execa } from "execa";
import { startEdgeStack } from "../../test/stack/support/edge-stack.js";
import { alternateRounds, figureTable, machineLine, positiveInteger, ratioOfMedians } from "../lib/rounds.js";
import { parseWrk, type WrkResult, wrkArgv } from "./wrk.js";

const PATHS = ["/healthz", "/products?limit=20"] as const;

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "10" },
    connections: { type: "string", default: process.env.BENCH_CONNECTIONS ?? "32" },
  },
});
const rounds = positiveInteger("rounds", values.rounds, 20);
const seconds = positiveInteger("seconds", values.seconds, 120);
// nginx allows 50 concurrent connections per client (limit_conn); stay below it.
const connections = positiveInteger("connections", values.connections, 40);

async function wrk(url: string, durationSeconds = seconds): Promise<WrkResult> {
  const [file, args] = wrkArgv({ url, durationSeconds, connections, threads: 2 });
  const { stdout } = await execa(file, args, { timeout: (durationSeconds + 30) * 1000 });
  return parseWrk(stdout);
}

const failures = (results: readonly WrkResult[]) =>
  results.reduce((sum, result) => sum + result.non2xx + result.socketErrors, 0);

async function seedProducts(appUrl: string, adminToken: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const created = await fetch(`${appUrl}/products`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        sku: `bench-${i}`,
        name: `Bench product ${i}`,
        priceCents: 100 + i,
        stock: 1000,
      }),
    });
    if (created.status !== 201) throw new Error(`seeding failed: ${created.status} ${await created.text()}`);
  }
}

const edge = await startEdgeStack({
  database: "bench_nginx",
  appEnv: { RATE_LIMIT_MAX: "1000000", LOG_LEVEL: "error" },
  rate: "1000000r/s",
});
const { app, nginx } = edge;
try {
  await seedProducts(app.url, app.adminToken);
  const loadAverages: number[] = [];
  const tables: string[] = [];
  for (const path of PATHS) {
    // Warm both sides (the app's JIT and cache, nginx's upstream connections) before measuring.
    await wrk(`${app.url}${path}`, 1);
    await wrk(`${nginx.httpsUrl}${path}`, 1);
    console.error(`${path}:`);
    const { samples, loadAverages: loads } = await alternateRounds(
      rounds,
      { direct: () => wrk(`${app.url}${path}`), nginx: () => wrk(`${nginx.httpsUrl}${path}`) },
      (line) => console.error(line),
    );
    loadAverages.push(...loads);
    const rps = (side: "direct" | "nginx") => samples[side].map((result) => result.requestsPerSecond);
    const p99 = (side: "direct" | "nginx") => samples[side].map((result) => result.p99);
    tables.push(
      [
        `${path}`,
        figureTable([
          { label: "direct req/s", values: rps("direct"), unit: "req/s", digits: 0 },
          { label: "nginx https req/s", values: rps("nginx"), unit: "req/s", digits: 0 },
          { label: "direct p99", values: p99("direct"), unit: "ms", digits: 2 },
          { label: "nginx https p99", values: p99("nginx"), unit: "ms", digits: 2 },
        ]),
        `nginx / direct, ratio of medians: ${(ratioOfMedians(rps("nginx"), rps("direct")) * 100).toFixed(0)} %` +
          `   (errors or non-2xx: direct ${failures(samples.direct)}, nginx ${failures(samples.nginx)})`,
      ].join("\n"),
    );
  }
  console.log(machineLine(rounds, loadAverages));
  console.log(`wrk: ${seconds} s per sample, ${connections} connections, 2 threads, keep-alive\n`);
  console.log(tables.join("\n\n"));
} finally {
  await edge.stop();
}
