// Reads the JUnit report of a test run and fails it when any test was skipped or none ran: a suite whose
// setup failed reports its tests as skipped, and "nothing is skipped" is a promise docs/testing.md makes.
// usage: node ci/test-summary.mjs REPORT.xml
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node ci/test-summary.mjs REPORT.xml");
  process.exit(64);
}
let xml;
try {
  xml = readFileSync(file, "utf8");
} catch {
  console.error(`no JUnit report at ${file}: the run stopped before the tests (lint or type-check failed?)`);
  process.exit(1);
}
const cases = [...xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
const named = (match) => /classname="([^"]*)"[^>]*name="([^"]*)"/.exec(match[0])?.slice(1).join(" > ") ?? "?";
const failed = cases.filter((c) => /<(failure|error)\b/.test(c[2] ?? ""));
const skipped = cases.filter((c) => /<skipped\b/.test(c[2] ?? ""));
const passed = cases.length - failed.length - skipped.length;
for (const c of skipped) console.error(`skipped: ${named(c)}`);
for (const c of failed) console.error(`failed: ${named(c)}`);
console.log(`${passed} passed, ${failed.length} failed, ${skipped.length} skipped`);
process.exit(cases.length > 0 && failed.length === 0 && skipped.length === 0 ? 0 : 1);
