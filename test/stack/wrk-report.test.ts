import { describe, expect, it } from "vitest";
import { parseWrk, wrkArgv } from "../../bench/nginx/wrk.js";

// Captured from wrk 4.1 (Debian bookworm) against a server answering 404.
const REPORT = `Running 1s test @ http://127.0.0.1:18765/nonexistent
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.26ms    1.68ms  13.36ms   88.04%
    Req/Sec     1.91k   406.57     2.31k    70.00%
  Latency Distribution
     50%  850.00us
     75%    2.35ms
     90%    4.24ms
     99%    1.15s
  1904 requests in 1.00s, 0.94MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 1904
Requests/sec:   1903.16
Transfer/sec:      0.94MB
`;

describe("the nginx benchmark's wrk handling", () => {
  it("reads throughput, percentiles in ms whatever wrk's unit, and failures", () => {
    expect(parseWrk(REPORT)).toEqual({
      requestsPerSecond: 1903.16,
      p50: 0.85,
      p90: 4.24,
      p99: 1150,
      requests: 1904,
      non2xx: 1904,
      socketErrors: 5,
    });
  });

  it("refuses output that is not a wrk --latency report", () => {
    expect(() => parseWrk("wrk: invalid URL")).toThrow(/not a wrk report/);
    expect(() => parseWrk(REPORT.replace(/Latency Distribution[\s\S]*?99%[^\n]*\n/, ""))).toThrow(
      /--latency/,
    );
  });

  it("asks wrk for latency percentiles and a bounded run", () => {
    const [file, args] = wrkArgv({
      url: "https://127.0.0.1:8443/healthz",
      durationSeconds: 5,
      connections: 8,
      threads: 2,
    });
    expect(file).toBe("wrk");
    expect(args).toEqual([
      "--latency",
      "--duration=5s",
      "--connections=8",
      "--threads=2",
      "--timeout=5s",
      "https://127.0.0.1:8443/healthz",
    ]);
  });
});
