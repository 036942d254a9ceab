/**
 * The live progress line of long work that moves bytes (a dump, a restore, an upload, a fetch), as pure
 * decisions from counters and a clock: whether to draw it at all, when to redraw it, and its text. The
 * effect (the clock, the timer, the writes to stderr) is Progress.transfer in progress.ts.
 */
import { UsageError } from "./mistakes.js";

/** The variable that overrides whether the live line is drawn: auto (default), always or never. */
export const PROGRESS_VARIABLE = "SHIPYARD_PROGRESS";
const SETTINGS = ["auto", "always", "never"] as const;

/**
 * Drawn on a terminal only. A log (CI, a file, a pipe) gets nothing during the work, not a line every
 * 10–30 s: it is read after the fact, where the step's final line (bytes, average rate) says what matters,
 * the "→ step" line before it already says what is running, and an hour-long dump would otherwise leave a
 * few hundred lines of noise. `always` draws it without a terminal (to watch a run whose stderr is piped,
 * and for tests); --json never draws it, whatever the variable says: its reader wants the envelope alone.
 */
export function drawsLive(json: boolean, stderrIsTerminal: boolean, setting: string | undefined): boolean {
  const chosen = setting === undefined || setting === "" ? "auto" : setting;
  if (!(SETTINGS as readonly string[]).includes(chosen))
    throw new UsageError(`${PROGRESS_VARIABLE}=${setting} is not one of ${SETTINGS.join(", ")}`);
  if (json || chosen === "never") return false;
  return chosen === "always" || stderrIsTerminal;
}

/** At most four frames a second: enough to read as live, few enough to cost nothing over SSH or in tmux. */
export const REDRAW_MS = 250;

/**
 * The first frame waits a quarter of a second too, so work that ends sooner never draws one mid-way, and
 * the rate it shows is measured over enough time to mean something.
 */
export function redrawDue(startedAt: number, lastDrawnAt: number | null, now: number): boolean {
  return now - (lastDrawnAt ?? startedAt) >= REDRAW_MS;
}

/** Decimal units, as describeSize and disks do: 1 MB = 10^6 bytes. */
export function bytesText(bytes: number): string {
  if (bytes < 1e3) return `${Math.round(bytes)} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/** Bytes a second; a clock that has not moved counts as one millisecond, not as an infinite rate. */
const rate = (bytes: number, ms: number) => bytes / (Math.max(ms, 1) / 1000);

export const rateText = (bytes: number, ms: number) => `${bytesText(rate(bytes, ms))}/s`;

/**
 * "42 s", "3 min 07 s", "1 h 02 min": whole seconds, rounded down for time gone by and up for time left
 * (so nothing unfinished shows "0 s left").
 */
export function durationText(ms: number, round: (seconds: number) => number = Math.floor): string {
  const s = round(ms / 1000);
  if (s < 60) return `${s} s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}

export interface TransferState {
  bytes: number;
  /** Known for what is read or sent from a file of known size; null for what is still being written. */
  total: number | null;
  elapsedMs: number;
}

/**
 * One frame: "  12.3 MB of 40.0 MB (31%) · 4.1 MB/s · 3 s · 7 s left"; without a total, bytes, rate and
 * elapsed only. The time left assumes the average rate so far holds.
 */
export function transferFrame({ bytes, total, elapsedMs }: TransferState): string {
  const parts = [
    total ? `${bytesText(bytes)} of ${bytesText(total)} (${percent(bytes, total)}%)` : bytesText(bytes),
    rateText(bytes, elapsedMs),
    durationText(elapsedMs),
  ];
  if (total && bytes > 0 && bytes < total)
    parts.push(`${durationText((total - bytes) / (rate(bytes, elapsedMs) / 1000), Math.ceil)} left`);
  return `  ${parts.join(" · ")}`;
}

const percent = (bytes: number, total: number) => Math.min(100, Math.floor((bytes / total) * 100));

/** What the step's final line adds: "12.3 MB at 4.1 MB/s" (the average over the whole transfer). */
export const transferSummary = (bytes: number, ms: number) => `${bytesText(bytes)} at ${rateText(bytes, ms)}`;

/** Puts the cursor back at the start of the line and clears it: a frame is drawn over the last one. */
export const CLEAR_LINE = "\r\x1b[K";
