/** What publish pushed, handed to deploy as data and to the caller as text. */
import { describe, expect, it } from "vitest";
import { publishDecision } from "../src/lib/publish-gate.js";
import { publishedImage, publishReport } from "../src/lib/published-image.js";

const digest = `sha256:${"ab".repeat(32)}`;
const pushed = [`ghcr.io/acme/shop:sha-0123456789ab@${digest}`, `ghcr.io/acme/shop:1.4.0@${digest}`];
const passed = { passed: true, summary: "" };
const failed = { passed: false, summary: "1 HIGH" };

describe("a published image", () => {
  it("deploy releases the first push, the sha-<revision> tag by digest, without reading any text back", () => {
    const image = publishedImage(pushed, publishDecision({ test: passed, scan: passed }, false));
    expect(image).toEqual({ pinned: pushed[0], references: pushed });
  });

  it("publish answers each reference on its own line, after the reason when failed checks were overridden", () => {
    expect(
      publishReport(publishedImage(pushed, publishDecision({ test: passed, scan: passed }, false))),
    ).toBe(pushed.join("\n"));
    const overridden = publishedImage(pushed, publishDecision({ test: passed, scan: failed }, true));
    expect(publishReport(overridden).split("\n").slice(-2)).toEqual(pushed);
    expect(publishReport(overridden)).toMatch(
      /^publishing although scan failed, because --allow-failed-checks/,
    );
    expect(overridden.pinned).toBe(pushed[0]);
  });

  it("a publish that pushed nothing is an error, never an empty reference", () => {
    expect(() => publishedImage([], publishDecision({ test: passed, scan: passed }, false))).toThrow(
      /pushed no reference/,
    );
  });
});
