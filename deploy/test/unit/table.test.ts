import { describe, expect, it } from "vitest";
import { alignedTable } from "../../src/cli/table.js";

describe("the CLI's aligned tables", () => {
  it("pads every column but the last to its widest cell, header included", () => {
    expect(
      alignedTable(
        ["release", "result", "by"],
        [
          ["r1", "deployed", "ci"],
          ["release-2026", "rolled back", "alice"],
        ],
      ),
    ).toEqual([
      "release       result       by",
      "r1            deployed     ci",
      "release-2026  rolled back  alice",
    ]);
  });

  it("leaves no trailing spaces when the last cell is empty, and prints a header alone for no rows", () => {
    expect(alignedTable(["id", "reason"], [["a", ""]])).toEqual(["id  reason", "a"]);
    expect(alignedTable(["id", "reason"], [])).toEqual(["id  reason"]);
  });
});
