import { describe, expect, it } from "vitest";
import { formatScanSummary, gateScan, parseSeverityThreshold } from "../src/lib/scan-gate.js";
import { findings, parseTrivyReport } from "../src/lib/trivy-report.js";
import { trivyFixture } from "./fixtures.js";

const image = () => findings(parseTrivyReport(trivyFixture("image-with-findings.json")));
const cleanImage = () => findings(parseTrivyReport(trivyFixture("image-clean.json")));
const source = () => findings(parseTrivyReport(trivyFixture("source-misconfig-and-secret.json")));
const unfixedOnly = () => findings(parseTrivyReport(trivyFixture("image-unfixed-only.json")));

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
  it("fails on fixable findings at the threshold, most severe first, and lists the unfixed apart", () => {
    const gate = gateScan(
      [
        { name: "image", findings: image() },
        { name: "source", findings: [] },
      ],
      ["HIGH", "CRITICAL"],
    );
    expect(gate.passed).toBe(false);
    expect(gate.blocking.map((f) => f.id)).toEqual(["CVE-2025-4802", "CVE-2024-21538"]);
    expect(gate.unfixed.map((f) => f.id)).toEqual(["CVE-2023-45853"]);

    const summary = formatScanSummary(gate).split("\n");
    expect(summary).toContain("image: CRITICAL 1, HIGH 2, MEDIUM 1, LOW 3, UNKNOWN 0");
    expect(summary).toContain("source: CRITICAL 0, HIGH 0, MEDIUM 0, LOW 0, UNKNOWN 0");
    const blocking = summary.indexOf("blocking findings (HIGH,CRITICAL): 2");
    const unfixed = summary.indexOf("not blocking, no fix released yet (--block-unfixed blocks them): 1");
    expect(summary.slice(blocking + 1, unfixed)).toEqual([
      "  HIGH vulnerability CVE-2025-4802 in /scan/image.tar (debian 12.11): libc6 2.36-9+deb12u10 (fixed in 2.36-9+deb12u11)",
      "  HIGH vulnerability CVE-2024-21538 in Node.js: cross-spawn 7.0.3 (fixed in 7.0.5, 6.0.6)",
    ]);
    expect(summary[unfixed + 1]).toBe(
      "  CRITICAL vulnerability CVE-2023-45853 in /scan/image.tar (debian 12.11): zlib1g 1:1.2.13.dfsg-1 (no fix yet)",
    );
    expect(summary.at(-1)).toBe("scan FAILED: 2 finding(s) at HIGH,CRITICAL (1 without a fix yet)");
  });

  it("with --block-unfixed, a vulnerability without a fix blocks too", () => {
    const gate = gateScan([{ name: "image", findings: image() }], ["HIGH", "CRITICAL"], {
      blockUnfixed: true,
    });
    expect(gate.blocking.map((f) => f.id)).toEqual(["CVE-2025-4802", "CVE-2023-45853", "CVE-2024-21538"]);
    expect(gate.unfixed).toEqual([]);
  });

  it("passes an image whose findings at the threshold all wait for a fix, by default, and says so", () => {
    const gate = gateScan([{ name: "image", findings: unfixedOnly() }], ["HIGH", "CRITICAL"]);
    expect(gate.passed).toBe(true);
    // Status will_not_fix, affected and fix_deferred, with FixedVersion missing or empty.
    expect(gate.unfixed.map((f) => f.id)).toEqual(["CVE-2023-45853", "CVE-2025-6020", "CVE-2025-8058"]);
    expect(formatScanSummary(gate).split("\n").at(-1)).toBe(
      "scan passed: nothing fixable at HIGH,CRITICAL (3 without a fix yet)",
    );

    const strict = gateScan([{ name: "image", findings: unfixedOnly() }], ["HIGH", "CRITICAL"], {
      blockUnfixed: true,
    });
    expect(strict.passed).toBe(false);
    expect(formatScanSummary(strict).split("\n").at(-1)).toBe("scan FAILED: 3 finding(s) at HIGH,CRITICAL");
  });

  it("blocks only on the severities asked for", () => {
    const gate = gateScan([{ name: "image", findings: image() }], ["CRITICAL"], { blockUnfixed: true });
    expect(gate.blocking.map((f) => f.id)).toEqual(["CVE-2023-45853"]);
    expect(gateScan([{ name: "image", findings: image() }], ["CRITICAL"]).passed).toBe(true);
  });

  it("passes when findings exist only below the threshold", () => {
    const lowOnly = gateScan(
      [{ name: "image", findings: image().filter((f) => f.severity === "LOW") }],
      ["HIGH", "CRITICAL"],
    );
    expect(lowOnly.passed).toBe(true);
    expect(formatScanSummary(lowOnly).split("\n").at(-1)).toBe(
      "scan passed: nothing fixable at HIGH,CRITICAL",
    );
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
      fixAvailable: true,
    }));
    const summary = formatScanSummary(gateScan([{ name: "image", findings: many }], ["HIGH"]), 25);
    expect(
      summary.split("\n").filter((line) => line.startsWith("  CVE") || line.startsWith("  HIGH")),
    ).toHaveLength(25);
    expect(summary).toContain("… and 5 more");
  });
});
