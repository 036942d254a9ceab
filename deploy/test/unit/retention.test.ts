import { describe, expect, it } from "vitest";
import { applyRetention, isoWeekKey } from "../../src/backup/retention.js";
import { compareCounts } from "../../src/backup/table-counts.js";

const at = (iso: string) => ({ id: iso, createdAt: iso });

describe("retention", () => {
  it("keeps the newest backup of each of the last N days", () => {
    const backups = [
      at("2026-11-23T03:00:00.000Z"),
      at("2026-11-23T01:00:00.000Z"),
      at("2026-11-22T03:00:00.000Z"),
      at("2026-11-21T03:00:00.000Z"),
      at("2026-11-20T03:00:00.000Z"),
    ];
    const { keep, remove } = applyRetention(backups, { last: 1, daily: 2, weekly: 0 });
    expect(keep.map((b) => b.id)).toEqual(["2026-11-23T03:00:00.000Z", "2026-11-22T03:00:00.000Z"]);
    expect(remove.map((b) => b.id)).toEqual([
      "2026-11-23T01:00:00.000Z",
      "2026-11-21T03:00:00.000Z",
      "2026-11-20T03:00:00.000Z",
    ]);
  });

  it("also keeps the newest of each of the last N ISO weeks", () => {
    // 2026-11-23 is a Monday: the 22nd (Sunday) closes the previous week.
    const backups = [
      at("2026-11-23T03:00:00.000Z"),
      at("2026-11-22T03:00:00.000Z"),
      at("2026-11-18T03:00:00.000Z"),
      at("2026-11-15T03:00:00.000Z"),
      at("2026-11-08T03:00:00.000Z"),
      at("2026-11-01T03:00:00.000Z"),
    ];
    const { keep } = applyRetention(backups, { last: 1, daily: 1, weekly: 3 });
    expect(keep.map((b) => b.id)).toEqual([
      "2026-11-23T03:00:00.000Z",
      "2026-11-22T03:00:00.000Z",
      "2026-11-15T03:00:00.000Z",
    ]);
  });

  it("keeps everything while there is less history than the policy covers", () => {
    const backups = [at("2026-11-23T03:00:00.000Z"), at("2026-11-22T03:00:00.000Z")];
    expect(applyRetention(backups, { last: 1, daily: 7, weekly: 4 }).remove).toEqual([]);
  });

  it("does not depend on the order the catalog lists backups in", () => {
    const backups = [
      at("2026-11-20T03:00:00.000Z"),
      at("2026-11-23T03:00:00.000Z"),
      at("2026-11-21T03:00:00.000Z"),
    ];
    expect(applyRetention(backups, { last: 1, daily: 1, weekly: 0 }).keep.map((b) => b.id)).toEqual([
      "2026-11-23T03:00:00.000Z",
    ]);
  });

  it("keeps the last N whatever their day, so each of several deploys a day keeps its backup", () => {
    const backups = [
      at("2026-11-23T16:00:00.000Z"),
      at("2026-11-23T12:00:00.000Z"),
      at("2026-11-23T09:00:00.000Z"),
      at("2026-11-23T08:00:00.000Z"),
      at("2026-11-22T08:00:00.000Z"),
    ];
    const { keep } = applyRetention(backups, { last: 3, daily: 2, weekly: 0 });
    expect(keep.map((b) => b.id)).toEqual([
      "2026-11-23T16:00:00.000Z",
      "2026-11-23T12:00:00.000Z",
      "2026-11-23T09:00:00.000Z",
      "2026-11-22T08:00:00.000Z",
    ]);
  });

  it("numbers ISO weeks across the year boundary", () => {
    expect(isoWeekKey(new Date("2026-12-31T12:00:00Z"))).toBe("2026-W53");
    expect(isoWeekKey(new Date("2027-01-03T12:00:00Z"))).toBe("2026-W53");
    expect(isoWeekKey(new Date("2027-01-04T12:00:00Z"))).toBe("2027-W01");
    expect(isoWeekKey(new Date("2025-12-29T12:00:00Z"))).toBe("2026-W01");
  });
});

describe("row count comparison", () => {
  it("names missing tables, wrong counts and extra tables", () => {
    const source = [
      { table: "public.products", rows: 10 },
      { table: "public.orders", rows: 5 },
      { table: "public.gone", rows: 1 },
    ];
    const restored = [
      { table: "public.products", rows: 10 },
      { table: "public.orders", rows: 4 },
      { table: "public.extra", rows: 0 },
    ];
    expect(compareCounts(source, restored)).toEqual([
      "table public.orders has 4 rows, source had 5",
      "table public.gone is missing (source had 1 rows)",
      "table public.extra is not in the source",
    ]);
    expect(compareCounts(source, source)).toEqual([]);
  });
});
