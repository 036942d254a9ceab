/**
 * Step-by-step progress with durations on stderr; the same records become the --json summary. Work that
 * moves bytes also counts them (transfer): a live line while it runs, when drawn (transfer.ts decides),
 * and the total and average rate in its step's final line.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Command } from "./commands/argv.js";
import { CLEAR_LINE, redrawDue, transferFrame, transferSummary } from "./transfer.js";

export interface StepRecord {
  step: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

export interface PlannedStep {
  step: string;
  /** What runs, exactly; absent for steps done in-process (queries, checksums, file moves). */
  argv?: readonly string[];
  note?: string;
}

/** What work that moves bytes reports as they move. */
export interface ByteCounter {
  /** `bytes` more went by (a chunk of a stream). */
  add(bytes: number): void;
  /** `bytes` in all have gone by so far (an upload's progress event, a process's offset in its file). */
  reached(bytes: number): void;
}

export interface LiveOptions {
  /** Whether the live line is drawn (transfer.ts: drawsLive); off unless asked, so tests and --json see none. */
  live?: boolean;
  /** Where frames go, without a newline of their own. */
  draw?: (text: string) => void;
  now?: () => number;
}

/** How often a transfer that has stalled is redrawn anyway, so its elapsed time and rate keep moving. */
const HEARTBEAT_MS = 1000;

/** The bytes a step's transfers moved and how long they took, for its final line. */
interface Moved {
  bytes: number;
  ms: number;
}

export class Progress {
  readonly steps: StepRecord[] = [];
  private readonly live: boolean;
  private readonly draw: (text: string) => void;
  private readonly now: () => number;
  /** The step running in this async context: transfers add to it, even when steps nest (a release's backup). */
  private readonly current = new AsyncLocalStorage<{ moved: Moved | null }>();

  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    options: LiveOptions = {},
  ) {
    this.live = options.live ?? false;
    this.draw = options.draw ?? ((text) => process.stderr.write(text));
    this.now = options.now ?? (() => performance.now());
  }

  async step<T>(step: string, work: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    const started = performance.now();
    this.write(`→ ${step}`);
    const scope: { moved: Moved | null } = { moved: null };
    try {
      const value = await this.current.run(scope, work);
      const record: StepRecord = { step, ok: true, ms: Math.round(performance.now() - started) };
      const text = withMoved(detail?.(value), scope.moved);
      if (text) record.detail = text;
      this.steps.push(record);
      this.write(`✓ ${step} (${seconds(record.ms)})${text ? ` ${text}` : ""}`);
      return value;
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      this.steps.push({ step, ok: false, ms, detail: (error as Error).message });
      this.write(`✗ ${step} (${seconds(ms)}): ${(error as Error).message}`);
      throw error;
    }
  }

  /**
   * Runs `work`, which reports the bytes it moves to the counter it is given; `total` when the size is
   * known beforehand (a file read or sent), for a percentage and the time left. The line is cleared when
   * the work ends, whatever the result: the step's own line follows it.
   */
  async transfer<T>(total: number | null, work: (counter: ByteCounter) => Promise<T>): Promise<T> {
    const startedAt = this.now();
    let bytes = 0;
    let lastDrawnAt: number | null = null;
    const frame = () => transferFrame({ bytes, total, elapsedMs: this.now() - startedAt });
    const redraw = () => {
      if (!this.live || !redrawDue(startedAt, lastDrawnAt, this.now())) return;
      lastDrawnAt = this.now();
      this.draw(`${CLEAR_LINE}${frame()}`);
    };
    const counter: ByteCounter = {
      add: (n) => {
        bytes += n;
        redraw();
      },
      reached: (n) => {
        bytes = Math.max(bytes, n);
        redraw();
      },
    };
    const heartbeat = this.live ? setInterval(redraw, HEARTBEAT_MS).unref() : undefined;
    try {
      return await work(counter);
    } finally {
      clearInterval(heartbeat);
      // The last frame, with every byte, even for work shorter than the first redraw; then the step's line
      // replaces it on a terminal.
      if (this.live && bytes > 0) this.draw(`${CLEAR_LINE}${frame()}${CLEAR_LINE}`);
      const scope = this.current.getStore();
      if (scope && bytes > 0) {
        const ms = this.now() - startedAt;
        scope.moved = { bytes: (scope.moved?.bytes ?? 0) + bytes, ms: (scope.moved?.ms ?? 0) + ms };
      }
    }
  }

  /** A line of a command's own progress (docker pull's), shown as it comes when the live line would be. */
  readonly aside = (line: string): void => {
    if (this.live) this.draw(`  ${line.trimEnd()}\n`);
  };
}

/** The step's detail, then what its transfers moved: "12.34 MB, 12.3 MB at 4.1 MB/s". */
function withMoved(text: string | undefined, moved: Moved | null): string | undefined {
  if (!moved) return text;
  const summary = transferSummary(moved.bytes, moved.ms);
  return text ? `${text}, ${summary}` : summary;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function planned(step: string, command?: Command, note?: string): PlannedStep {
  return { step, ...(command ? { argv: [...command.argv] } : {}), ...(note ? { note } : {}) };
}
