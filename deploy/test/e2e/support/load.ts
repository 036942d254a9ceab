/**
 * A load generator for deploys: a few workers, each a bounded loop of HTTPS requests to 127.0.0.1
 * through nginx, each request on a new connection (as independent users arrive). It records every
 * failure and the longest stretch with no successful answer (the gap users would notice).
 */
import type { Reply } from "../../../../test/stack/support/https-client.js";

export interface LoadReport {
  requests: number;
  failed: number;
  /** Up to 20 failures: status or error, and when (ms since start). */
  failures: { atMs: number; what: string }[];
  /** The longest time between two successful answers, in ms. */
  longestGapMs: number;
  durationMs: number;
}

export interface Load {
  stop(): Promise<LoadReport>;
}

export function startLoad(
  send: () => Promise<Reply>,
  options: { workers?: number; maxRequests?: number; maxMs?: number } = {},
): Load {
  const { workers = 4, maxRequests = 50_000, maxMs = 240_000 } = options;
  const started = performance.now();
  const report: LoadReport = { requests: 0, failed: 0, failures: [], longestGapMs: 0, durationMs: 0 };
  let lastSuccess = started;
  let stopping = false;
  const fail = (what: string) => {
    report.failed++;
    if (report.failures.length < 20)
      report.failures.push({ atMs: Math.round(performance.now() - started), what });
  };
  const worker = async () => {
    while (!stopping && report.requests < maxRequests && performance.now() - started < maxMs) {
      report.requests++;
      try {
        const reply = await send();
        if (reply.status === 200) {
          const now = performance.now();
          report.longestGapMs = Math.max(report.longestGapMs, now - lastSuccess);
          lastSuccess = Math.max(lastSuccess, now);
        } else fail(`HTTP ${reply.status}`);
      } catch (error) {
        fail((error as Error).message);
      }
    }
  };
  const running = Array.from({ length: workers }, worker);
  return {
    async stop() {
      stopping = true;
      await Promise.all(running);
      const end = performance.now();
      report.longestGapMs = Math.round(Math.max(report.longestGapMs, end - lastSuccess));
      report.durationMs = Math.round(end - started);
      return report;
    },
  };
}
