import { describe, expect, it } from "vitest";
import { Progress } from "../../src/progress.js";
import {
  bytesText,
  CLEAR_LINE,
  drawsLive,
  durationText,
  REDRAW_MS,
  redrawDue,
  transferFrame,
  transferSummary,
} from "../../src/transfer.js";

describe("the live progress line's text", () => {
  it("shows bytes, rate and elapsed time; a known total adds the percentage and the time left", () => {
    expect(transferFrame({ bytes: 12_300_000, total: null, elapsedMs: 3000 })).toBe(
      "  12.3 MB · 4.1 MB/s · 3 s",
    );
    expect(transferFrame({ bytes: 10_000_000, total: 40_000_000, elapsedMs: 2000 })).toBe(
      "  10.0 MB of 40.0 MB (25%) · 5.0 MB/s · 2 s · 6 s left",
    );
    expect(transferFrame({ bytes: 40_000_000, total: 40_000_000, elapsedMs: 8000 })).toBe(
      "  40.0 MB of 40.0 MB (100%) · 5.0 MB/s · 8 s",
    );
  });

  it("survives a clock that has not moved and a total it went past", () => {
    expect(transferFrame({ bytes: 2000, total: null, elapsedMs: 0 })).toBe("  2.0 kB · 2.0 MB/s · 0 s");
    expect(transferFrame({ bytes: 150, total: 100, elapsedMs: 1000 })).toBe(
      "  150 B of 100 B (100%) · 150 B/s · 1 s",
    );
  });

  it("picks units a person reads at a glance", () => {
    expect([999, 1500, 2_500_000, 3_210_000_000].map(bytesText)).toEqual([
      "999 B",
      "1.5 kB",
      "2.5 MB",
      "3.21 GB",
    ]);
    expect([400, 59_000, 187_000, 3_725_000].map((ms) => durationText(ms))).toEqual([
      "0 s",
      "59 s",
      "3 min 07 s",
      "1 h 02 min",
    ]);
    expect(durationText(400, Math.ceil)).toBe("1 s");
  });

  it("sums a finished transfer up as its size and average rate, for the step's line", () => {
    expect(transferSummary(12_300_000, 3000)).toBe("12.3 MB at 4.1 MB/s");
  });
});

describe("when the live line is drawn", () => {
  it("on a terminal, or always when asked; never with --json, never when told not to", () => {
    expect(drawsLive(false, true, undefined)).toBe(true);
    expect(drawsLive(false, false, undefined)).toBe(false);
    expect(drawsLive(false, false, "")).toBe(false);
    expect(drawsLive(false, false, "always")).toBe(true);
    expect(drawsLive(false, true, "never")).toBe(false);
    expect(drawsLive(true, true, "always")).toBe(false);
    expect(() => drawsLive(false, true, "yes")).toThrow(
      "SHIPYARD_PROGRESS=yes is not one of auto, always, never",
    );
  });

  it("redraws at most every quarter second, the first frame included", () => {
    expect(redrawDue(1000, null, 1000 + REDRAW_MS - 1)).toBe(false);
    expect(redrawDue(1000, null, 1000 + REDRAW_MS)).toBe(true);
    expect(redrawDue(1000, 2000, 2100)).toBe(false);
    expect(redrawDue(1000, 2000, 2000 + REDRAW_MS)).toBe(true);
  });
});

/** A Progress on a fake clock, with what it writes: step lines and live frames. */
function scene(live: boolean) {
  let now = 0;
  const lines: string[] = [];
  const frames: string[] = [];
  const progress = new Progress((line) => lines.push(line), {
    live,
    now: () => now,
    draw: (text) => frames.push(text),
  });
  return { progress, lines, frames, tick: (ms: number) => (now += ms) };
}

describe("a transfer in a step", () => {
  it("draws a frame per quarter second as bytes come, a last one at the end, and clears it", async () => {
    const s = scene(true);
    await s.progress.step("upload", () =>
      s.progress.transfer(4_000_000, async (moved) => {
        moved.add(500_000); // at 0 ms: too soon
        s.tick(100);
        moved.add(500_000); // at 100 ms: still too soon
        s.tick(150);
        moved.add(1_000_000); // at 250 ms: drawn
        s.tick(100);
        moved.reached(3_000_000); // at 350 ms: too soon after the last frame
        s.tick(150);
        moved.reached(4_000_000); // at 500 ms: drawn
      }),
    );
    expect(s.frames).toEqual([
      `${CLEAR_LINE}  2.0 MB of 4.0 MB (50%) · 8.0 MB/s · 0 s · 1 s left`,
      `${CLEAR_LINE}  4.0 MB of 4.0 MB (100%) · 8.0 MB/s · 0 s`,
      `${CLEAR_LINE}  4.0 MB of 4.0 MB (100%) · 8.0 MB/s · 0 s${CLEAR_LINE}`,
    ]);
  });

  it("puts the bytes and average rate in the step's line and record, after its own detail", async () => {
    const s = scene(false);
    await s.progress.step(
      "dump",
      () =>
        s.progress.transfer(null, async (moved) => {
          moved.add(3_000_000);
          s.tick(2000);
          return 3_000_000;
        }),
      (size) => `${(size / 1e6).toFixed(2)} MB`,
    );
    expect(s.frames).toEqual([]);
    expect(s.lines.at(-1)).toMatch(/^✓ dump \([\d.]+ s\) 3\.00 MB, 3\.0 MB at 1\.5 MB\/s$/);
    expect(s.progress.steps[0]?.detail).toBe("3.00 MB, 3.0 MB at 1.5 MB/s");
  });

  it("leaves a step that moved nothing as it was, and adds to the innermost step when steps nest", async () => {
    const s = scene(false);
    await s.progress.step(
      "backup",
      async () => {
        await s.progress.step("record", async () => s.progress.transfer(null, async () => {}));
        await s.progress.step("fetch", () =>
          s.progress.transfer(1000, async (moved) => {
            moved.add(1000);
            s.tick(1000);
          }),
        );
        return "b1";
      },
      (id) => id,
    );
    expect(s.progress.steps.map((r) => [r.step, r.detail])).toEqual([
      ["record", undefined],
      ["fetch", "1.0 kB at 1.0 kB/s"],
      ["backup", "b1"],
    ]);
  });

  it("shows a command's own progress lines only when drawing live", () => {
    const on = scene(true);
    on.progress.aside("abc123: Pull complete\n");
    const off = scene(false);
    off.progress.aside("abc123: Pull complete\n");
    expect(on.frames).toEqual(["  abc123: Pull complete\n"]);
    expect(off.frames).toEqual([]);
  });
});
