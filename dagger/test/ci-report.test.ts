import { describe, expect, it } from "vitest";
import { ciReport, settledStep } from "../src/lib/ci-report.js";

describe("the ci report", () => {
  it("passes only when every step passed, with one section per step", () => {
    const report = ciReport([
      { name: "test", passed: true, detail: "Tests 120 passed" },
      { name: "scan", passed: true, detail: "scan passed: nothing at HIGH,CRITICAL" },
      { name: "build", passed: true, detail: "built the production image from app/Dockerfile" },
    ]);
    expect(report.passed).toBe(true);
    expect(report.text).toContain("=== test: passed ===\nTests 120 passed");
    expect(report.text.split("\n").at(-1)).toBe("ci passed");
  });

  it("fails naming the failed steps, and keeps the others' results", () => {
    const report = ciReport([
      { name: "test", passed: false, detail: "tests failed (exit code 1)" },
      { name: "scan", passed: true, detail: "scan passed" },
      { name: "build", passed: false, detail: "dockerfile parse error" },
    ]);
    expect(report.passed).toBe(false);
    expect(report.text).toContain("=== scan: passed ===");
    expect(report.text.split("\n").at(-1)).toBe("ci FAILED: test, build");
  });

  it("turns a step that threw into a failed step carrying the error message", () => {
    const step = settledStep("build", {
      status: "rejected",
      reason: new Error('process "npm ci" did not complete'),
    });
    expect(step).toEqual({ name: "build", passed: false, detail: 'process "npm ci" did not complete' });
    expect(settledStep("scan", { status: "fulfilled", value: { passed: true, detail: "ok" } })).toEqual({
      name: "scan",
      passed: true,
      detail: "ok",
    });
  });
});
