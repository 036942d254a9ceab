/**
 * Health verified from outside, through nginx at the public URL, as users reach the site. A reload
 * is asynchronous, so the check retries until the expected release answers or the deadline passes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Environment } from "../config/environments.js";
import type { SiteGet } from "../site.js";

export interface Served {
  health: number;
  release: string | undefined;
}

/** One look: the health path's status and the release /version names. */
export async function servedRelease(env: Environment, get: SiteGet): Promise<Served> {
  const health = await get(new URL(env.healthPath, env.publicUrl), 5_000);
  const version = await get(new URL("/version", env.publicUrl), 5_000);
  let release: string | undefined;
  try {
    release = (JSON.parse(version.body) as { release?: string }).release;
  } catch {
    release = undefined;
  }
  return { health: health.status, release };
}

export async function verifyServing(
  env: Environment,
  release: string | undefined,
  get: SiteGet,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const served = await servedRelease(env, get);
      if (served.health === 200 && (release === undefined || served.release === release)) return served;
      last = `${env.healthPath} answered ${served.health}, /version names release ${served.release ?? "(none)"}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(500);
  }
  throw new Error(
    `${env.publicUrl} did not serve ${release ? `release ${release}` : "a healthy release"} within ${timeoutMs / 1000} s: ${last}`,
  );
}
