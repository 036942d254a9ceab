/** Decides whether a scan passes: no finding at a severity the caller chose to block on. */
import { z } from "zod";
import { asCliFlag, parseOrExplain } from "./invalid-input.js";
import {
  countBySeverity,
  type Finding,
  SEVERITIES,
  type Severity,
  type SeverityCounts,
} from "./trivy-report.js";

/** Parses Trivy's own threshold syntax, e.g. "HIGH,CRITICAL" (case and spaces forgiven). */
export function parseSeverityThreshold(value: string): Severity[] {
  const schema = z.object({
    severity: z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((part) => part.trim().toUpperCase())
          .filter((part) => part.length > 0),
      )
      .pipe(
        z
          .array(z.enum(SEVERITIES, { message: `each value must be one of ${SEVERITIES.join(", ")}` }))
          .min(1, `list at least one of ${SEVERITIES.join(", ")}, comma-separated`),
      ),
  });
  const { severity } = parseOrExplain(schema, { severity: value }, "scan threshold", asCliFlag);
  return [...new Set(severity)];
}

export interface ScanSection {
  /** What was scanned, e.g. "image" or "source". */
  name: string;
  findings: readonly Finding[];
}

export interface GateResult {
  passed: boolean;
  threshold: Severity[];
  counts: Record<string, SeverityCounts>;
  blocking: Finding[];
}

export function gateScan(sections: readonly ScanSection[], threshold: readonly Severity[]): GateResult {
  const blocked = new Set(threshold);
  const counts: Record<string, SeverityCounts> = {};
  const blocking: Finding[] = [];
  for (const section of sections) {
    counts[section.name] = countBySeverity(section.findings);
    blocking.push(...section.findings.filter((f) => blocked.has(f.severity)));
  }
  return { passed: blocking.length === 0, threshold: [...threshold], counts, blocking };
}

function formatCounts(counts: SeverityCounts): string {
  return SEVERITIES.map((s) => `${s} ${counts[s]}`).join(", ");
}

/** The text `scan` prints: counts per section, then the findings that block, most severe first. */
export function formatScanSummary(gate: GateResult, maxListed = 25): string {
  const lines = Object.entries(gate.counts).map(([name, counts]) => `${name}: ${formatCounts(counts)}`);
  const order = (s: Severity) => SEVERITIES.indexOf(s);
  const listed = [...gate.blocking].sort((a, b) => order(a.severity) - order(b.severity)).slice(0, maxListed);
  if (listed.length > 0) {
    lines.push(`blocking findings (${gate.threshold.join(",")}): ${gate.blocking.length}`);
    for (const f of listed) lines.push(`  ${f.severity} ${f.kind} ${f.id} in ${f.target}: ${f.description}`);
    if (gate.blocking.length > listed.length)
      lines.push(`  … and ${gate.blocking.length - listed.length} more`);
  }
  lines.push(
    gate.passed
      ? `scan passed: nothing at ${gate.threshold.join(",")}`
      : `scan FAILED: ${gate.blocking.length} finding(s) at ${gate.threshold.join(",")}`,
  );
  return lines.join("\n");
}
