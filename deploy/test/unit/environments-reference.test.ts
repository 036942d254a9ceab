import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  normalizeTables,
  REFERENCE_END,
  REFERENCE_PAGE,
  REFERENCE_START,
  renderEnvironmentsReference,
  withReference,
} from "../../src/config/reference.js";

describe("docs/environments.md, generated from the schema", () => {
  const reference = renderEnvironmentsReference();

  it("matches the schema (after a schema change, run `npm run docs:environments`)", () => {
    const page = readFileSync(REFERENCE_PAGE, "utf8");
    const fresh = withReference(page, reference);
    expect(
      normalizeTables(page),
      "docs/environments.md is out of date with deploy/src/config/environments.ts: run `npm run docs:environments`",
    ).toBe(normalizeTables(fresh));
  });

  it("describes every field, so a field added without a description fails here", () => {
    const rows = reference.split("\n").filter((line) => line.startsWith("| `"));
    expect(rows.length).toBeGreaterThan(30);
    const undescribed = rows.filter((row) => row.trimEnd().endsWith("|  |")).map((row) => row.split("|")[1]);
    expect(undescribed).toEqual([]);
  });

  it("names every key of the committed environments file", () => {
    for (const field of [
      "target.hostKey",
      "compose.nginxConfDirectory",
      "database.dumpFrom",
      "backup.upload.url",
      "image.repository",
    ])
      expect(reference).toContain(`| \`${field}\` |`);
  });

  it("escapes the pipes of a pattern, which would otherwise end a table cell", () => {
    const hostKey = reference.split("\n").find((line) => line.startsWith("| `target.hostKey`")) ?? "";
    expect(hostKey).toContain("ssh-ed25519\\|ecdsa");
    expect(hostKey.split(/(?<!\\)\|/)).toHaveLength(6);
  });

  it("replaces only the block between the markers, and refuses a page without them", () => {
    const page = `# Title\n\nprose\n\n${REFERENCE_START}\nold table\n${REFERENCE_END}\n\nmore prose\n`;
    expect(withReference(page, "NEW")).toBe(
      `# Title\n\nprose\n\n${REFERENCE_START}\n\nNEW\n\n${REFERENCE_END}\n\nmore prose\n`,
    );
    expect(() => withReference("# no markers\n", "NEW")).toThrow(/markers/);
  });

  it("compares tables cell by cell, ignoring the formatter's padding", () => {
    expect(normalizeTables("| a   | b |\n| --- | - |\n| c   | d |")).toBe(
      normalizeTables("| a | b |\n| --- | --- |\n| c | d |"),
    );
    expect(normalizeTables("| a | b |")).not.toBe(normalizeTables("| a | c |"));
  });
});
