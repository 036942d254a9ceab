/** The site's health as `status` reports it: one request to the health path through the public URL. */
import type { SiteGet } from "./site.js";

export interface Health {
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
  ms: number;
}

/** One GET with a deadline; an unreachable or failing site is a report, not an exception. */
export async function checkHealth(url: string, timeoutMs: number, get: SiteGet): Promise<Health> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const { status } = await get(new URL(url), timeoutMs);
    return { url, ok: status === 200, status, ms: ms() };
  } catch (error) {
    return { url, ok: false, error: (error as Error).message, ms: ms() };
  }
}
