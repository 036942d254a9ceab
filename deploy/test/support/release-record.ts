import type { ReleaseRecord } from "../../src/commands/ledger.js";

/** A ledger line as a fixture: a succeeded release of `local`. */
export function releaseRecord(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    release: "r",
    env: "local",
    who: "t",
    at: "2026-11-23T00:00:00.000Z",
    image: "i",
    digest: `sha256:${"a".repeat(64)}`,
    result: "succeeded",
    ...overrides,
  };
}
