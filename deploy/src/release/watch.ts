/**
 * The watch window: after the switch the new release must keep serving for `watch.seconds` while the
 * previous one stays running as nginx's backup. Two witnesses, both as users see the site: looks through
 * the public URL (health 200 and /version naming the new release; once nginx gives up on a failing server
 * its backup answers, and /version names the old one) and nginx's access log (the share of requests the
 * new release answered 5xx first, which the backup then saved).
 */
import { edgeAnswers } from "../commands/nginx.js";
import type { Environment } from "../config/environments.js";
import type { Runner } from "../runner.js";
import type { SiteGet } from "../site.js";
import { pause } from "../steps.js";
import { errorShareVerdict, FAILED_LOOKS_TO_FAIL, parseEdgeAnswers, untilLook } from "./decisions.js";
import { servedRelease } from "./verify.js";

export interface WatchReport {
  seconds: number;
  looks: number;
  proxied: number;
  failed: number;
}

export class WatchFailed extends Error {
  override name = "WatchFailed";
}

/** One look through the public URL: undefined when `release` serves, else what was seen. */
export async function lookThroughPublicUrl(
  env: Environment,
  release: string,
  get: SiteGet,
): Promise<string | undefined> {
  try {
    const served = await servedRelease(env, get);
    if (served.health === 200 && served.release === release) return undefined;
    return `${env.healthPath} answered ${served.health}, /version named release ${served.release ?? "(none)"}`;
  } catch (error) {
    return (error as Error).message;
  }
}

export interface WatchOptions {
  pollSeconds: number;
  look: (release: string) => Promise<string | undefined>;
  signal?: AbortSignal;
}

/**
 * Looks at the start of the window and every `pollSeconds` until `watch.seconds` have passed: a fixed
 * number of looks, so a slow host lengthens the window rather than thinning it. Each look through the
 * public URL and its read of nginx's log run together: neither needs the other.
 */
export async function watchRelease(
  env: Environment,
  runner: Runner,
  release: string,
  switchedAt: number,
  { pollSeconds, look, signal }: WatchOptions,
): Promise<WatchReport> {
  const started = Date.now();
  const looks = Math.floor(env.watch.seconds / pollSeconds) + 1;
  const report: WatchReport = { seconds: env.watch.seconds, looks: 0, proxied: 0, failed: 0 };
  let failedLooks = 0;
  for (let i = 0; i < looks; i++) {
    await pause(untilLook(i, started, Date.now(), pollSeconds), signal);
    report.looks++;
    // Since the switch, so requests that the first reload still sent to the old release count as proxied.
    const [problem, log] = await Promise.all([
      look(release),
      runner.run(edgeAnswers(env, (Date.now() - switchedAt) / 1000 + 1)),
    ]);
    failedLooks = problem ? failedLooks + 1 : 0;
    if (problem && failedLooks >= FAILED_LOOKS_TO_FAIL) {
      throw new WatchFailed(
        `release ${release} stopped serving ${Math.round((Date.now() - started) / 1000)} s into the watch window: ${problem}`,
      );
    }
    const answers = parseEdgeAnswers(log.stdout);
    Object.assign(report, answers);
    const verdict = errorShareVerdict(answers, env.watch);
    if (verdict) throw new WatchFailed(`${verdict} (watch window, ${env.watch.seconds} s)`);
  }
  return report;
}
