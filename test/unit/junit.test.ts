import { describe, expect, it } from "vitest";
import { summarizeJUnit } from "../harness/junit.js";

describe("summarizeJUnit", () => {
  it("reads pytest's report", () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="2" tests="28" time="25.1" timestamp="2026-12-02T21:33:00" hostname="vm"><testcase classname="tests.test_orders" name="test_x" time="0.1"/></testsuite></testsuites>`;
    expect(summarizeJUnit(xml)).toEqual({ tests: 28, failures: 1, errors: 0, skipped: 2 });
  });

  it("sums a report with one suite per file, and counts a missing attribute as zero", () => {
    const xml = `<testsuites><testsuite name="a" tests="3" failures="0"></testsuite><testsuite name="b" tests="2" failures="1" errors="1"></testsuite></testsuites>`;
    expect(summarizeJUnit(xml)).toEqual({ tests: 5, failures: 1, errors: 1, skipped: 0 });
  });

  it("refuses text that is not a report, rather than reading it as zero tests", () => {
    expect(() => summarizeJUnit("<html>error page</html>")).toThrow(/not a JUnit report/);
  });
});
