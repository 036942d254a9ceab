import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../src/lib/invalid-input.js";
import { countBySeverity, findings, parseTrivyReport } from "../src/lib/trivy-report.js";
import { trivyFixture } from "./fixtures.js";

describe("reading Trivy JSON reports", () => {
  it("counts OS and Node package vulnerabilities of an image by severity", () => {
    const list = findings(parseTrivyReport(trivyFixture("image-with-findings.json")));
    expect(countBySeverity(list)).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 3, UNKNOWN: 0 });
    expect(list.map((f) => f.target)).toContain("Node.js");
  });

  it("says which package to upgrade and whether a fix exists", () => {
    const list = findings(parseTrivyReport(trivyFixture("image-with-findings.json")));
    const glibc = list.find((f) => f.id === "CVE-2025-4802");
    const zlib = list.find((f) => f.id === "CVE-2023-45853");
    expect(glibc?.description).toBe("libc6 2.36-9+deb12u10 (fixed in 2.36-9+deb12u11)");
    expect(zlib?.description).toBe("zlib1g 1:1.2.13.dfsg-1 (no fix yet)");
  });

  it("finds nothing in a clean image, whose results carry no or null vulnerability lists", () => {
    expect(findings(parseTrivyReport(trivyFixture("image-clean.json")))).toEqual([]);
  });

  it("counts failed configuration checks but not passed ones", () => {
    const list = findings(parseTrivyReport(trivyFixture("source-misconfig-and-secret.json")));
    const misconfigs = list.filter((f) => f.kind === "misconfiguration");
    expect(misconfigs.map((f) => f.id)).toEqual(["DS002"]);
    expect(misconfigs[0]?.target).toBe("app/Dockerfile");
  });

  it("reports a leaked secret by rule and line, never by the matched text", () => {
    const list = findings(parseTrivyReport(trivyFixture("source-misconfig-and-secret.json")));
    const secret = list.find((f) => f.kind === "secret");
    expect(secret).toMatchObject({
      id: "aws-access-key-id",
      severity: "CRITICAL",
      target: "compose/prod.env.example",
    });
    expect(secret?.description).toBe("AWS Access Key ID at line 4");
    expect(JSON.stringify(list)).not.toContain("AWS_ACCESS_KEY_ID=");
  });

  it("accepts a report with no Results, from a scan that found nothing to scan", () => {
    expect(findings(parseTrivyReport(trivyFixture("source-nothing-scanned.json")))).toEqual([]);
  });

  it("rejects text that is not JSON, saying so", () => {
    expect(() => parseTrivyReport("FATAL: init error: DB error")).toThrow(/Trivy report is not JSON/);
  });

  it("rejects another schema version or an unknown severity, naming the field", () => {
    const report = JSON.parse(trivyFixture("image-with-findings.json"));
    expect(() => parseTrivyReport(JSON.stringify({ ...report, SchemaVersion: 1 }))).toThrow(/SchemaVersion/);

    report.Results[0].Vulnerabilities[0].Severity = "SEVERE";
    const error = (() => {
      try {
        parseTrivyReport(JSON.stringify(report));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain("Results.0.Vulnerabilities.0.Severity");
  });
});
