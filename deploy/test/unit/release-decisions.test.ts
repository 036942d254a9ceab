import { describe, expect, it } from "vitest";
import type { ReleaseRecord } from "../../src/commands/ledger.js";
import {
  defaultReleaseName,
  notReadyReason,
  parseFreeBytes,
  requireReleaseName,
  rollbackTarget,
  splitPinned,
  untilLook,
} from "../../src/release/decisions.js";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const record = (
  release: string,
  d: string,
  result: ReleaseRecord["result"] = "succeeded",
): ReleaseRecord => ({
  release,
  env: "local",
  who: "ci",
  at: "2026-11-23T10:00:00.000Z",
  image: "registry.example.com/app",
  digest: digest(d),
  result,
});

describe("release decisions", () => {
  it("keeps waiting for readiness while the container runs, stops at once when it cannot recover", () => {
    // Docker's own healthcheck may not have run yet (or be absent): readiness is asked directly.
    for (const line of ["running healthy\n", "running starting", "running none"])
      expect(notReadyReason(line)).toBeUndefined();
    expect(notReadyReason("running unhealthy")).toBe("its healthcheck reports unhealthy");
    expect(notReadyReason("restarting starting")).toBe("the container is restarting");
    expect(notReadyReason("exited none")).toBe("the container is exited");
    expect(notReadyReason("")).toBe("the container is gone");
  });

  it("takes a release name only as a plain word that paths and logs can hold unquoted", () => {
    for (const name of ["v1", "2026-12-02.1", "release_7", "20261202T101500Z"])
      expect(requireReleaseName(name)).toBe(name);
    for (const name of ["", "-v1", "v 1", "v1/../x", "x".repeat(65), "v1;ls"])
      expect(() => requireReleaseName(name)).toThrow(/^--release must be a release name/);
  });

  it("splits a pinned reference into the image and the digest the ledger keeps", () => {
    expect(splitPinned(`127.0.0.1:5000/app@${digest("a")}`)).toEqual({
      image: "127.0.0.1:5000/app",
      digest: digest("a"),
    });
  });

  it("reads free bytes from df, and names output it cannot read", () => {
    expect(parseFreeBytes("    Avail\n52345678901\n")).toBe(52345678901);
    expect(() => parseFreeBytes("df: /nope: No such file")).toThrow(/cannot read free disk space/);
  });

  it("names a release by its UTC time when none is given", () => {
    expect(defaultReleaseName(new Date("2026-11-23T10:04:05.678Z"))).toBe("20261123T100405Z");
  });

  it("rolls back to the newest succeeded release that ran another image, skipping failed ones", () => {
    const ledger = [
      record("r1", "a"),
      record("r2", "b"),
      record("r3", "c", "rolled-back"),
      record("r4", "b"),
    ];
    expect(rollbackTarget(ledger, undefined).release).toBe("r1");
    expect(rollbackTarget(ledger, "r2").release).toBe("r2");
  });

  it("refuses a rollback with nowhere to go, or to a release that never succeeded, naming the valid ones", () => {
    expect(() => rollbackTarget([], undefined)).toThrow(
      "nothing to roll back to: the ledger has no succeeded release",
    );
    expect(() => rollbackTarget([record("r1", "a")], undefined)).toThrow(
      /r1 is the only image that ever succeeded/,
    );
    expect(() => rollbackTarget([record("r1", "a"), record("r3", "c", "rolled-back")], "r3")).toThrow(
      "--to=r3: no succeeded release of that name in the ledger; succeeded releases: r1",
    );
  });

  it("keeps the watch window's looks on their schedule: the time a look takes comes out of the wait", () => {
    const started = 1_000_000;
    expect(untilLook(0, started, started, 2)).toBe(0);
    // Look 1 is due 2 s after the start; the first look took 0.5 s.
    expect(untilLook(1, started, started + 500, 2)).toBe(1.5);
    // A look that took longer than the wait it had: the next one follows at once, none is skipped.
    expect(untilLook(2, started, started + 4_700, 2)).toBe(0);
    expect(untilLook(3, started, started + 4_700, 2)).toBe(1.3);
  });
});
