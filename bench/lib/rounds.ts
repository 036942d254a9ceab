/**
 * What every benchmark here shares: sides measured in alternating rounds in one run, and figures printed as
 * min / median / max beside the baseline, with the machine's load, so a reader can judge a ratio.
 * One sample per side tells little on a busy 2-core machine (a ratio went 5.5x in one run and 0.86x in the
 * next); whichever side runs first also meets a colder or a hotter machine, so the order rotates each round.
 */
import os from "node:os";

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** The order of the sides in a round: rotated by one each round, so each side goes first as often as the others. */
export function roundOrder<S>(sides: readonly S[], round: number): S[] {
  const shift = sides.length === 0 ? 0 : round % sides.length;
  return [...sides.slice(shift), ...sides.slice(0, shift)];
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error("no samples to summarise");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

/** The median of ours over the median of the baseline's. */
export function ratioOfMedians(ours: readonly number[], baseline: readonly number[]): number {
  return spread(ours).median / spread(baseline).median;
}

export interface RoundsResult<S extends string, T> {
  readonly samples: Record<S, T[]>;
  /** The 1-minute load average when each round started. */
  readonly loadAverages: number[];
}

/**
 * Runs each side once per round, in the rotated order, and keeps every sample. `log` hears one line per
 * sample as it lands, so a long benchmark shows it is alive.
 */
export async function alternateRounds<S extends string, T>(
  rounds: number,
  sides: Record<S, (round: number) => Promise<T>>,
  log: (line: string) => void = (line) => console.log(line),
): Promise<RoundsResult<S, T>> {
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`rounds must be a positive integer, got ${rounds}`);
  const names = Object.keys(sides) as S[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<S, T[]>;
  const loadAverages: number[] = [];
  for (let round = 0; round < rounds; round++) {
    loadAverages.push(os.loadavg()[0] as number);
    for (const name of roundOrder(names, round)) {
      const started = performance.now();
      samples[name].push(await sides[name](round));
      log(`  round ${round + 1}/${rounds}: ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  }
  return { samples, loadAverages };
}

export interface FigureRow {
  readonly label: string;
  readonly values: readonly number[];
  /** Printed after the numbers, e.g. "req/s" or "s". */
  readonly unit: string;
  readonly digits?: number;
}

/** An aligned table: one row per figure, its min, median and max. */
export function figureTable(rows: readonly FigureRow[]): string {
  const width = Math.max(20, ...rows.map((row) => row.label.length)) + 2;
  const cell = (value: string) => value.padStart(12);
  const lines = [`${"".padEnd(width)}${cell("min")}${cell("median")}${cell("max")}`];
  for (const row of rows) {
    const { min, median, max } = spread(row.values);
    const digits = row.digits ?? 1;
    lines.push(
      `${row.label.padEnd(width)}${cell(min.toFixed(digits))}${cell(median.toFixed(digits))}${cell(max.toFixed(digits))}  ${row.unit}`,
    );
  }
  return lines.join("\n");
}

/** Where and when: the date, the cores, the memory. */
export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown cpu";
  return `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

/** The line that says where and when figures were measured, and under what load, printed above every table. */
export function machineLine(rounds: number, loadAverages: readonly number[]): string {
  const load = loadAverages.length ? spread(loadAverages) : undefined;
  return [
    machineDescription(),
    `${rounds} alternating round${rounds === 1 ? "" : "s"}`,
    load ? `load average ${load.min.toFixed(2)}–${load.max.toFixed(2)} at round starts` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** Reads a positive-integer option, or stops the benchmark with one line that says what to pass. */
export function positiveInteger(
  name: string,
  value: string | undefined,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) {
    throw new Error(`--${name} must be an integer from 1 to ${max}, got ${value}`);
  }
  return number;
}
