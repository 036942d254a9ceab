/**
 * Reads Trivy's JSON report (schema version 2: `trivy image|fs --format json`) and counts findings by severity.
 * Only the fields the gate needs are checked; the rest of Trivy's report passes through untouched.
 */
import { z } from "zod";
import { parseOrExplain } from "./invalid-input.js";

export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"] as const;
export type Severity = (typeof SEVERITIES)[number];

const severity = z.enum(SEVERITIES);

const vulnerability = z.looseObject({
  VulnerabilityID: z.string(),
  PkgName: z.string(),
  InstalledVersion: z.string().optional(),
  FixedVersion: z.string().optional(),
  Severity: severity,
  Title: z.string().optional(),
});

const misconfiguration = z.looseObject({
  ID: z.string(),
  Title: z.string().optional(),
  Message: z.string().optional(),
  Severity: severity,
  // Trivy lists passed checks too when asked to; only failures are findings.
  Status: z.string(),
});

const secret = z.looseObject({
  RuleID: z.string(),
  Title: z.string().optional(),
  Severity: severity,
  StartLine: z.number().optional(),
});

const result = z.looseObject({
  Target: z.string(),
  Class: z.string().optional(),
  Type: z.string().optional(),
  Vulnerabilities: z.array(vulnerability).nullish(),
  Misconfigurations: z.array(misconfiguration).nullish(),
  Secrets: z.array(secret).nullish(),
});

export const trivyReportSchema = z.looseObject({
  SchemaVersion: z.literal(2, { message: "expected Trivy JSON schema version 2" }),
  ArtifactName: z.string(),
  // A scan that found nothing to scan has no Results at all.
  Results: z.array(result).nullish(),
});

export type TrivyReport = z.output<typeof trivyReportSchema>;

export type FindingKind = "vulnerability" | "misconfiguration" | "secret";

export interface Finding {
  kind: FindingKind;
  id: string;
  severity: Severity;
  target: string;
  /** One line a person can act on: package and fix, or the failed check, or where the secret is. */
  description: string;
  /**
   * For a vulnerability: whether a fixed version exists (Trivy's FixedVersion). Misconfigurations and
   * secrets are always fixable by the repository itself.
   */
  fixAvailable: boolean;
}

export function parseTrivyReport(json: string): TrivyReport {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new Error(`Trivy report is not JSON: ${(error as Error).message}`);
  }
  return parseOrExplain(trivyReportSchema, data, "Trivy JSON report");
}

export function findings(report: TrivyReport): Finding[] {
  return (report.Results ?? []).flatMap((r) => [
    ...(r.Vulnerabilities ?? []).map(
      (v): Finding => ({
        kind: "vulnerability",
        id: v.VulnerabilityID,
        severity: v.Severity,
        target: r.Target,
        description: `${v.PkgName} ${v.InstalledVersion ?? "?"} (${v.FixedVersion ? `fixed in ${v.FixedVersion}` : "no fix yet"})`,
        fixAvailable: Boolean(v.FixedVersion?.trim()),
      }),
    ),
    ...(r.Misconfigurations ?? [])
      .filter((m) => m.Status === "FAIL")
      .map(
        (m): Finding => ({
          kind: "misconfiguration",
          id: m.ID,
          severity: m.Severity,
          target: r.Target,
          description: m.Message ?? m.Title ?? m.ID,
          fixAvailable: true,
        }),
      ),
    ...(r.Secrets ?? []).map(
      (s): Finding => ({
        kind: "secret",
        id: s.RuleID,
        severity: s.Severity,
        target: r.Target,
        // Never the matched text: the summary is printed in CI logs.
        description: `${s.Title ?? s.RuleID}${s.StartLine === undefined ? "" : ` at line ${s.StartLine}`}`,
        fixAvailable: true,
      }),
    ),
  ]);
}

export type SeverityCounts = Record<Severity, number>;

export function countBySeverity(list: readonly Finding[]): SeverityCounts {
  const counts: SeverityCounts = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
  for (const f of list) counts[f.severity] += 1;
  return counts;
}
