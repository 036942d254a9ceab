/**
 * What a JUnit XML report says, in numbers: enough to assert that a suite run in another language (the
 * FastAPI example's pytest) ran tests and passed them. Pure: it reads text, not files.
 */

export interface JUnitSummary {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

const COUNTS = ["tests", "failures", "errors", "skipped"] as const;

/** Sums the counts of every `<testsuite>` element (pytest writes one; other runners one per file). */
export function summarizeJUnit(xml: string): JUnitSummary {
  const summary: JUnitSummary = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const suites = [...xml.matchAll(/<testsuite\b([^>]*)>/g)];
  if (suites.length === 0) throw new Error("not a JUnit report: no <testsuite> element");
  for (const [, attributes = ""] of suites) {
    for (const count of COUNTS) {
      const value = new RegExp(`\\b${count}="(\\d+)"`).exec(attributes)?.[1];
      summary[count] += value ? Number(value) : 0;
    }
  }
  return summary;
}
