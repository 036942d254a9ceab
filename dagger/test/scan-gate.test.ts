import { describe, expect, it } from "vitest";
import { formatScanSummary, gateScan, parseSeverityThreshold } from "../src/lib/scan-gate.js";
import { findings, parseTrivyReport } from "../src/lib/trivy-report.js";
import { trivyFixture } from "./fixtures.js";

const image = () => findings(parseTrivyReport(trivyFixture("image-with-findings.json")));
const cleanImage = () => findings(parseTrivyReport(trivyFixture("image-clean.json")));
const source = () => findings(parseTrivyReport(trivyFixture("source-misconfig-and-secret.json")));

describe("the severity threshold", () => {
  it("reads Trivy's comma-separated form, forgiving case, spaces and repeats", () => {
    expect(parseSeverityThreshold("HIGH,CRITICAL")).toEqual(["HIGH", "CRITICAL"]);
    expect(parseSeverityThreshold(" critical , high,HIGH ")).toEqual(["CRITICAL", "HIGH"]);
  });

  it("rejects an unknown severity or an empty list, naming the argument and the choices", () => {
    expect(() => parseSeverityThreshold("HIGH,SEVERE")).toThrow(
      /--severity\.1: each value must be one of CRITICAL, HIGH/,
    );
    expect(() => parseSeverityThreshold(" , ")).toThrow(/--severity: list at least one of/);
  });
});

describe("gating a scan", () => {
  it("fails when the image has findings at the threshold and lists them most severe first", () => {
    const gate = gateScan(
      [
        { name: "image", findings: image() },
        { name: "source", findings: [] },
      ],
      ["HIGH", "CRITICAL"],
    );
    expect(gate.passed).toBe(false);
    expect(gate.blocking.map((f) => f.id)).toEqual(["CVE-2025-4802", "CVE-2023-45853", "CVE-2024-21538"]);

    const summary = formatScanSummary(gate);
    expect(summary).toContain("image: CRITICAL 1, HIGH 2, MEDIUM 1, LOW 3, UNKNOWN 0");
    expect(summary).toContain("source: CRITICAL 0, HIGH 0, MEDIUM 0, LOW 0, UNKNOWN 0");
    const listed = summary.split("\n").filter((line) => line.startsWith("  "));
    expect(listed[0]).toBe(
      "  CRITICAL vulnerability CVE-2023-45853 in /scan/image.tar (debian 12.11): zlib1g 1:1.2.13.dfsg-1 (no fix yet)",
    );
    expect(summary.split("\n").at(-1)).toBe("scan FAILED: 3 finding(s) at HIGH,CRITICAL");
  });

  it("blocks only on the severities asked for", () => {
    const gate = gateScan([{ name: "image", findings: image() }], ["CRITICAL"]);
    expect(gate.blocking.map((f) => f.id)).toEqual(["CVE-2023-45853"]);
  });

  it("passes when findings exist only below the threshold", () => {
    const lowOnly = gateScan(
      [{ name: "image", findings: image().filter((f) => f.severity === "LOW") }],
      ["HIGH", "CRITICAL"],
    );
    expect(lowOnly.passed).toBe(true);
    expect(formatScanSummary(lowOnly).split("\n").at(-1)).toBe("scan passed: nothing at HIGH,CRITICAL");
  });

  it("blocks on a failed configuration check or a leaked secret in the source", () => {
    const gate = gateScan(
      [
        { name: "image", findings: cleanImage() },
        { name: "source", findings: source() },
      ],
      ["HIGH", "CRITICAL"],
    );
    expect(gate.passed).toBe(false);
    expect(gate.blocking.map((f) => `${f.kind}:${f.id}`)).toEqual([
      "misconfiguration:DS002",
      "secret:aws-access-key-id",
    ]);
  });

  it("shortens a long list of blocking findings and says how many were left out", () => {
    const many = Array.from({ length: 30 }, (_, i) => ({
      kind: "vulnerability" as const,
      id: `CVE-2026-${1000 + i}`,
      severity: "HIGH" as const,
      target: "Node.js",
      description: `pkg-${i} 1.0.0 (fixed in 1.0.1)`,
    }));
    const summary = formatScanSummary(gateScan([{ name: "image", findings: many }], ["HIGH"]), 25);
    expect(
      summary.split("\n").filter((line) => line.startsWith("  CVE") || line.startsWith("  HIGH")),
    ).toHaveLength(25);
    expect(summary).toContain("… and 5 more");
  });
});
