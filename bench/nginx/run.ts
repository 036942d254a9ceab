/**
 * Throughput and latency of the app through nginx (HTTPS, the production path) against the app
 * straight (plain HTTP on 127.0.0.1), measured in the same run with the same load.
 *   npx tsx bench/nginx/run.ts            BENCH_SECONDS (10), BENCH_CONNECTIONS (32)
 * nginx runs the repository's configuration with one change: the per-client rate limit is lifted,
 * since every request comes from 127.0.0.1 and would otherwise be answered 429.
 */
import { execa } from "execa";
import { startEdgeStack } from "../../test/stack/support/edge-stack.js";
import { parseWrk, type WrkResult, wrkArgv } from "./wrk.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
if (!Number.isInteger(seconds) || seconds < 1 || seconds > 120) {
  throw new Error("BENCH_SECONDS must be an integer from 1 to 120");
}
if (!Number.isInteger(connections) || connections < 1 || connections > 40) {
  // nginx allows 50 concurrent connections per client (limit_conn); stay below it.
  throw new Error("BENCH_CONNECTIONS must be an integer from 1 to 40");
}

async function wrk(url: string): Promise<WrkResult> {
  const [file, args] = wrkArgv({ url, durationSeconds: seconds, connections, threads: 2 });
  const { stdout } = await execa(file, args, { timeout: (seconds + 30) * 1000 });
  return parseWrk(stdout);
}

function row(label: string, result: WrkResult): string {
  const cells = [
    label.padEnd(32),
    result.requestsPerSecond.toFixed(0).padStart(10),
    result.p50.toFixed(2).padStart(9),
    result.p90.toFixed(2).padStart(9),
    result.p99.toFixed(2).padStart(9),
    String(result.non2xx + result.socketErrors).padStart(8),
  ];
  return cells.join(" ");
}

const edge = await startEdgeStack({
  database: "bench_nginx",
  appEnv: { RATE_LIMIT_MAX: "1000000", LOG_LEVEL: "error" },
  rate: "1000000r/s",
});
const { app, nginx } = edge;
try {
  for (let i = 0; i < 20; i++) {
    const created = await fetch(`${app.url}/products`, {
      method: "POST",
      headers: { authorization: `Bearer ${app.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        sku: `bench-${i}`,
        name: `Bench product ${i}`,
        priceCents: 100 + i,
        stock: 1000,
      }),
    });
    if (created.status !== 201) throw new Error(`seeding failed: ${created.status} ${await created.text()}`);
  }

  const header = [
    "target".padEnd(32),
    "req/s".padStart(10),
    "p50 ms".padStart(9),
    "p90 ms".padStart(9),
    "p99 ms".padStart(9),
    "errors".padStart(8),
  ];
  console.log(`wrk: ${seconds}s per target, ${connections} connections, 2 threads, keep-alive\n`);
  console.log(header.join(" "));
  for (const path of ["/healthz", "/products?limit=20"]) {
    // Warm both paths (TLS session, upstream keepalive, the app's cache) before measuring.
    await fetch(`${app.url}${path}`);
    const direct = await wrk(`${app.url}${path}`);
    const proxied = await wrk(`${nginx.httpsUrl}${path}`);
    console.log(row(`app ${path}`, direct));
    console.log(row(`nginx https ${path}`, proxied));
    const overhead =
      ((direct.requestsPerSecond - proxied.requestsPerSecond) / direct.requestsPerSecond) * 100;
    console.log(
      `${"  throughput cost of nginx".padEnd(32)} ${overhead.toFixed(1).padStart(9)}%  p50 +${(proxied.p50 - direct.p50).toFixed(2)} ms\n`,
    );
  }
} finally {
  await edge.stop();
}
