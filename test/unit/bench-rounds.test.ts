import { describe, expect, it } from "vitest";
import { alternateRounds, figureTable, ratioOfMedians, roundOrder, spread } from "../../bench/lib/rounds.js";

describe("benchmark rounds", () => {
  it("rotates the order so each side goes first as often as the others", () => {
    const sides = ["ours", "baseline", "other"];
    const firsts = [0, 1, 2, 3, 4, 5].map((round) => roundOrder(sides, round)[0]);
    expect(firsts).toEqual(["ours", "baseline", "other", "ours", "baseline", "other"]);
    expect(roundOrder(sides, 1)).toEqual(["baseline", "other", "ours"]);
  });

  it("runs every side once per round, in the rotated order", async () => {
    const calls: string[] = [];
    const { samples, loadAverages } = await alternateRounds(
      3,
      {
        ours: async (round) => {
          calls.push(`ours${round}`);
          return round * 10;
        },
        baseline: async (round) => {
          calls.push(`baseline${round}`);
          return round;
        },
      },
      () => {},
    );
    expect(calls).toEqual(["ours0", "baseline0", "baseline1", "ours1", "ours2", "baseline2"]);
    expect(samples).toEqual({ ours: [0, 10, 20], baseline: [0, 1, 2] });
    expect(loadAverages).toHaveLength(3);
  });

  it("summarises samples as min, median and max, and compares medians", () => {
    expect(spread([5, 1, 3])).toEqual({ min: 1, median: 3, max: 5 });
    expect(spread([4, 1, 3, 2])).toEqual({ min: 1, median: 2.5, max: 4 });
    expect(ratioOfMedians([2, 4, 6], [1, 2, 3])).toBe(2);
    expect(() => spread([])).toThrow(/no samples/);
  });

  it("prints one aligned row per figure", () => {
    const table = figureTable([
      { label: "ours", values: [1, 2, 3], unit: "s" },
      { label: "baseline (plain)", values: [10, 20, 30], unit: "s", digits: 0 },
    ]).split("\n");
    expect(table[1]).toMatch(/^ours\s+1\.0\s+2\.0\s+3\.0 {2}s$/);
    expect(table[2]).toMatch(/^baseline \(plain\)\s+10\s+20\s+30 {2}s$/);
    expect(table[1]?.length).toBe(table[2]?.length);
  });
});
