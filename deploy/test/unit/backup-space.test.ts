/** Whether a backup directory can hold a backup, and when a failure is a full disk: pure decisions. */
import { describe, expect, it } from "vitest";
import {
  estimateNeed,
  FULL_BELOW_BYTES,
  noSpaceMessage,
  outOfSpace,
  spaceRefusal,
} from "../../src/backup/space.js";
import { parseDatabaseSize, SIZE_MARKER } from "../../src/commands/postgres.js";
import { CommandFailed } from "../../src/runner.js";

describe("the space a backup needs", () => {
  it("is the database's size, twice when an encrypted copy lies beside the plain dump", () => {
    expect(estimateNeed(7_600_000, false)).toBe(7_600_000);
    expect(estimateNeed(7_600_000, true)).toBe(15_200_000);
  });

  it("refuses with one line naming the directory, what it needs (rounded up) and what it has (rounded down)", () => {
    expect(spaceRefusal("/var/backups/prod", 7_600_000, 1_900_000)).toBe(
      "no space left on device in /var/backups/prod (needs ~8 MB, has 1 MB)",
    );
    expect(spaceRefusal("/b", 12_000_000_000, 11_999_999_999)).toBe(
      "no space left on device in /b (needs ~12000 MB, has 11999 MB)",
    );
  });

  it("lets a directory with room enough through, to the byte", () => {
    expect(spaceRefusal("/b", 7_600_000, 7_600_000)).toBeUndefined();
    expect(spaceRefusal("/b", 7_600_000, 50_000_000_000)).toBeUndefined();
  });

  it("says at least ~1 MB for a tiny need, and leaves the estimate out when nothing made one", () => {
    expect(noSpaceMessage("/b", 20_000, 0)).toBe("no space left on device in /b (needs ~1 MB, has 0 MB)");
    expect(noSpaceMessage("/b", null, 3_000_000)).toBe("no space left on device in /b (has 3 MB)");
  });

  it("reads the size psql printed, and refuses an answer that is not one", () => {
    expect(parseDatabaseSize(`${SIZE_MARKER} 7609859\n`)).toBe(7609859);
    expect(() => parseDatabaseSize("psql: error: connection refused\n")).toThrow(/no database size/);
    expect(() => parseDatabaseSize(`${SIZE_MARKER} lots\n`)).toThrow(/no database size/);
  });
});

describe("a failed write into the backup directory", () => {
  const plenty = 50_000_000_000;
  const failed = (stderr: string) => new CommandFailed(["pg_dump"], 1, stderr, "local");

  it("is a full disk when the tool says so, in either spelling, or the file system does (ENOSPC)", () => {
    expect(
      outOfSpace(failed("pg_dump: error: could not write to output file: No space left on device"), plenty),
    ).toBe(true);
    expect(outOfSpace(failed("write /dev/stdout: no space left on device"), plenty)).toBe(true);
    expect(outOfSpace(Object.assign(new Error("ENOSPC: write"), { code: "ENOSPC" }), plenty)).toBe(true);
  });

  it("is a full disk when the directory is full after it, whatever the tool said (a dump streamed through ssh)", () => {
    const through = failed("SHIPYARD-COUNTS 7b2264617461626173…");
    expect(outOfSpace(through, 0)).toBe(true);
    expect(outOfSpace(through, FULL_BELOW_BYTES - 1)).toBe(true);
    expect(outOfSpace(through, FULL_BELOW_BYTES)).toBe(false);
    expect(outOfSpace(through, null)).toBe(false);
  });

  it("is not a full disk otherwise", () => {
    expect(outOfSpace(failed("pg_dump: error: connection to server lost"), plenty)).toBe(false);
    expect(outOfSpace(new Error("age: no identity"), plenty)).toBe(false);
  });
});
