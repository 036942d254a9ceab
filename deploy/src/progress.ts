/** Step-by-step progress with durations on stderr; the same records become the --json summary. */
import type { Command } from "./commands/argv.js";

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

export class Progress {
  readonly steps: StepRecord[] = [];
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  async step<T>(step: string, work: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    const started = performance.now();
    this.write(`→ ${step}`);
    try {
      const value = await work();
      const record: StepRecord = { step, ok: true, ms: Math.round(performance.now() - started) };
      const text = detail?.(value);
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
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function planned(step: string, command?: Command, note?: string): PlannedStep {
  return { step, ...(command ? { argv: [...command.argv] } : {}), ...(note ? { note } : {}) };
}
