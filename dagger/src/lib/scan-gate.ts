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

export interface GateOptions {
  /**
   * Whether a vulnerability with no fixed version yet blocks. Default false: no upgrade can remove it, so
   * blocking on it stops every release (including the one that fixes something else) until upstream ships
   * a fix. It is still counted, listed in the summary and kept in the JSON and SARIF reports.
   */
  blockUnfixed?: boolean;
}

export interface GateResult {
  passed: boolean;
  threshold: Severity[];
  blockUnfixed: boolean;
  counts: Record<string, SeverityCounts>;
  blocking: Finding[];
  /** At the threshold but not blocking, because no fix exists yet and blockUnfixed is off. */
  unfixed: Finding[];
}

export function gateScan(
  sections: readonly ScanSection[],
  threshold: readonly Severity[],
  { blockUnfixed = false }: GateOptions = {},
): GateResult {
  const blocked = new Set(threshold);
  const counts: Record<string, SeverityCounts> = {};
  const blocking: Finding[] = [];
  const unfixed: Finding[] = [];
  for (const section of sections) {
    counts[section.name] = countBySeverity(section.findings);
    for (const finding of section.findings.filter((f) => blocked.has(f.severity))) {
      if (finding.fixAvailable || blockUnfixed) blocking.push(finding);
      else unfixed.push(finding);
    }
  }
  return {
    passed: blocking.length === 0,
    threshold: [...threshold],
    blockUnfixed,
    counts,
    blocking,
    unfixed,
  };
}

function formatCounts(counts: SeverityCounts): string {
  return SEVERITIES.map((s) => `${s} ${counts[s]}`).join(", ");
}

const bySeverity = (a: Finding, b: Finding) =>
  SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity);

function listFindings(lines: string[], list: readonly Finding[], maxListed: number): void {
  const listed = [...list].sort(bySeverity).slice(0, maxListed);
  for (const f of listed) lines.push(`  ${f.severity} ${f.kind} ${f.id} in ${f.target}: ${f.description}`);
  if (list.length > listed.length) lines.push(`  … and ${list.length - listed.length} more`);
}

/**
 * The text `scan` prints: counts per section, the findings that block, most severe first, then those at the
 * threshold that do not block because no fix exists yet.
 */
export function formatScanSummary(gate: GateResult, maxListed = 25): string {
  const lines = Object.entries(gate.counts).map(([name, counts]) => `${name}: ${formatCounts(counts)}`);
  const threshold = gate.threshold.join(",");
  if (gate.blocking.length > 0) {
    lines.push(`blocking findings (${threshold}): ${gate.blocking.length}`);
    listFindings(lines, gate.blocking, maxListed);
  }
  if (gate.unfixed.length > 0) {
    lines.push(`not blocking, no fix released yet (--block-unfixed blocks them): ${gate.unfixed.length}`);
    listFindings(lines, gate.unfixed, maxListed);
  }
  const waiting = gate.unfixed.length > 0 ? ` (${gate.unfixed.length} without a fix yet)` : "";
  lines.push(
    gate.passed
      ? `scan passed: nothing fixable at ${threshold}${waiting}`
      : `scan FAILED: ${gate.blocking.length} finding(s) at ${threshold}${waiting}`,
  );
  return lines.join("\n");
}
