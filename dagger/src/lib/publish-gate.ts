/** Whether an image may be published, given how its tests and scan went. */

export interface CheckResult {
  passed: boolean;
  /** What to show the caller: the test tail or the scan summary. */
  summary: string;
}

export interface PublishDecision {
  publish: boolean;
  /** True when the image goes out only because the caller overrode failed checks. */
  overridden: boolean;
  /** Why, in words that end up in the function's output or error. */
  reason: string;
}

export function publishDecision(
  checks: { test: CheckResult; scan: CheckResult },
  allowFailedChecks: boolean,
): PublishDecision {
  const failed = Object.entries(checks)
    .filter(([, result]) => !result.passed)
    .map(([name]) => name);
  if (failed.length === 0) return { publish: true, overridden: false, reason: "test and scan passed" };
  const details = failed
    .map((name) => `--- ${name} ---\n${checks[name as keyof typeof checks].summary}`)
    .join("\n");
  if (allowFailedChecks) {
    return {
      publish: true,
      overridden: true,
      reason: `publishing although ${failed.join(" and ")} failed, because --allow-failed-checks was given:\n${details}`,
    };
  }
  return {
    publish: false,
    overridden: false,
    reason: `refusing to publish: ${failed.join(" and ")} failed (pass --allow-failed-checks to publish anyway):\n${details}`,
  };
}
