import { describe, expect, it } from "vitest";
import type { ReleaseRecord } from "../../src/commands/ledger.js";
import { currentRelease } from "../../src/release/decisions.js";

const release = (name: string, result: ReleaseRecord["result"]): ReleaseRecord => ({
  release: name,
  env: "prod",
  who: "ci",
  at: "2026-11-23T10:00:00.000Z",
  image: "app",
  digest: `sha256:${"a".repeat(64)}`,
  result,
});

describe("current release", () => {
  it("is the newest that succeeded: failed and rolled-back releases never stayed live", () => {
    const ledger = [
      release("r1", "succeeded"),
      release("r2", "succeeded"),
      release("r3", "rolled-back"),
      release("r4", "failed"),
    ];
    expect(currentRelease(ledger)?.release).toBe("r2");
    expect(currentRelease([release("r1", "failed")])).toBeNull();
    expect(currentRelease([])).toBeNull();
  });
});
