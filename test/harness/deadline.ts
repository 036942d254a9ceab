/**
 * Test deadlines that follow the work. A test names the steps it runs one after another and gets the sum
 * of their allowances, so a slow machine (one where every process start or SSH command takes a second)
 * stretches the deadline with the work instead of failing a fixed budget. A step that hangs is still
 * caught: each allowance is the bound of one step, not a guess at the whole scenario.
 */
/**
 * How long one command may take in these tests before the runner gives up on it: a guard against a hang,
 * not a speed check. (On this machine kind one SSH command costs 1-2 s of shell start-up, and eight
 * at once on two busy cores take over ten seconds each.)
 */
export const COMMAND_SECONDS = 120;

const ALLOWANCE_MS = {
  /** One `shipyard …` process: Node and tsx start, then a few commands. */
  cli: 60_000,
  /** One round of commands over SSH or locally, each bounded by the runner at COMMAND_SECONDS. */
  command: COMMAND_SECONDS * 1000,
  /** Starting a test server (sshd, Postgres). */
  server: 30_000,
} as const;

export type Steps = Partial<Record<keyof typeof ALLOWANCE_MS, number>>;

export function deadline(steps: Steps): number {
  let total = 0;
  for (const [kind, count] of Object.entries(steps) as [keyof typeof ALLOWANCE_MS, number][]) {
    total += ALLOWANCE_MS[kind] * count;
  }
  return total;
}
