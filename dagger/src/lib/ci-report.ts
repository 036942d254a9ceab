/** Puts the outcomes of the `ci` steps into one report, and decides whether the run as a whole passed. */

export interface StepOutcome {
  name: string;
  passed: boolean;
  detail: string;
}

/** A step that threw (an exec that failed, an engine error) becomes a failed outcome carrying the error text. */
export function settledStep(
  name: string,
  settled: PromiseSettledResult<{ passed: boolean; detail: string }>,
): StepOutcome {
  if (settled.status === "fulfilled") return { name, ...settled.value };
  const reason = settled.reason instanceof Error ? settled.reason.message : String(settled.reason);
  return { name, passed: false, detail: reason };
}

export function ciReport(steps: readonly StepOutcome[]): { passed: boolean; text: string } {
  const passed = steps.every((s) => s.passed);
  const sections = steps.map(
    (s) => `=== ${s.name}: ${s.passed ? "passed" : "FAILED"} ===\n${s.detail.trimEnd()}`,
  );
  const failed = steps.filter((s) => !s.passed).map((s) => s.name);
  const verdict = passed ? "ci passed" : `ci FAILED: ${failed.join(", ")}`;
  return { passed, text: [...sections, verdict].join("\n\n") };
}
