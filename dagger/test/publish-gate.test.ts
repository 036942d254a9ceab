import { describe, expect, it } from "vitest";
import { publishDecision } from "../src/lib/publish-gate.js";

const passed = { passed: true, summary: "all good" };
const failedTests = { passed: false, summary: "tests failed (exit code 1)" };
const failedScan = { passed: false, summary: "scan FAILED: 2 finding(s) at HIGH,CRITICAL" };

describe("deciding whether to publish", () => {
  it("publishes when test and scan passed", () => {
    expect(publishDecision({ test: passed, scan: passed }, false)).toEqual({
      publish: true,
      overridden: false,
      reason: "test and scan passed",
    });
  });

  it("refuses when the tests failed, says how to override, and shows why they failed", () => {
    const decision = publishDecision({ test: failedTests, scan: passed }, false);
    expect(decision.publish).toBe(false);
    expect(decision.reason).toMatch(/^refusing to publish: test failed \(pass --allow-failed-checks/);
    expect(decision.reason).toContain("tests failed (exit code 1)");
  });

  it("refuses when the scan failed, and names both when both failed", () => {
    expect(publishDecision({ test: passed, scan: failedScan }, false).publish).toBe(false);
    const both = publishDecision({ test: failedTests, scan: failedScan }, false);
    expect(both.reason).toMatch(/^refusing to publish: test and scan failed/);
    expect(both.reason).toContain("scan FAILED: 2 finding(s)");
  });

  it("publishes failed checks only when the caller explicitly allows it, and says so", () => {
    const decision = publishDecision({ test: failedTests, scan: failedScan }, true);
    expect(decision).toMatchObject({ publish: true, overridden: true });
    expect(decision.reason).toMatch(
      /^publishing although test and scan failed, because --allow-failed-checks/,
    );
  });
});
