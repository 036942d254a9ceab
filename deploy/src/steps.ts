/**
 * An operation is a list of steps, each a name plus the command it runs (data) or the effect it has in
 * process. One executor runs the list through the Runner and Progress, or prints it for --dry-run; so what
 * --dry-run prints is what runs, in the same order, with the same arguments.
 *
 * What a step finds out (the container a release started, the upstream it replaces) goes into the
 * operation's facts. Steps whose commands depend on those facts come in a `later` group, built when the
 * run reaches it; a dry run builds it from placeholder facts instead.
 */
import type { Command } from "./commands/argv.js";
import { acquireLock, type LockHolder, releaseLock } from "./commands/lock.js";
import type { Environment } from "./config/environments.js";
import { withLock } from "./locking.js";
import { type PlannedStep, type Progress, planned } from "./progress.js";
import type { Runner, RunResult } from "./runner.js";

/** What runs the steps: the host's runner, this machine's (e.g. to pack a bundle), and the progress lines. */
export interface Exec {
  runner: Runner;
  local: Runner;
  progress: Progress;
  /** Aborted by SIGINT/SIGTERM: no step starts after it, waits end early, and the undo runs. */
  signal?: AbortSignal;
  /** Called whenever a step may have changed the facts (see Operation.journal). */
  noted?: (facts: unknown) => Promise<void>;
}

/** The operator (or CI) asked the operation to stop: SIGINT or SIGTERM. Undone like a failure. */
export class Interrupted extends Error {
  override name = "Interrupted";
  constructor(readonly signalName: string) {
    super(`interrupted by ${signalName}`);
  }
}

/** A wait that an interrupt ends at once, with the interrupt as its error. */
export async function pause(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, seconds * 1000);
    function done() {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });
}

export interface Step<F> {
  readonly kind: "step";
  readonly name: string;
  /** The command the step runs, or for an effect the command it repeats; what --dry-run prints. */
  readonly command?: Command;
  /** Where `command` runs: the target host (default) or this machine. */
  readonly on: "host" | "local";
  /** Work done in process instead of running `command` once (waiting, HTTP checks). */
  readonly effect?: (facts: F, exec: Exec) => Promise<unknown>;
  /** What --dry-run adds under the step. */
  readonly note?: string;
  /** What the progress line adds once the step is done. */
  readonly detail?: (value: unknown) => string | undefined;
  /** What the result tells later steps; part of the step, so an answer that makes no sense fails it. */
  readonly keep?: (value: unknown, facts: F) => void;
  /** Recorded before the step runs: what it may leave behind even half done, for the undo. */
  readonly leaves?: (facts: F) => void;
  /** A failure here is recorded and the operation goes on (an old container that will not go away). */
  readonly tolerate?: (facts: F, error: Error) => void;
}

/** Steps that depend on what earlier steps found. */
export interface Later<F> {
  readonly kind: "later";
  readonly build: (facts: F) => Steps<F>;
}

export type Steps<F> = readonly (Step<F> | Later<F>)[];

interface Options<F, T> {
  note?: string;
  detail?: (value: T) => string | undefined;
  keep?: (value: T, facts: F) => void;
  leaves?: (facts: F) => void;
  tolerate?: (facts: F, error: Error) => void;
}

/** A step that runs one command. */
export function step<F>(
  name: string,
  command: Command,
  options: Options<F, RunResult> & { on?: "host" | "local" } = {},
): Step<F> {
  const { on = "host", ...rest } = options;
  return { kind: "step", name, command, on, ...(rest as Options<F, unknown>) };
}

/** A step done in process; `shows` is the command it repeats, printed by --dry-run. */
export function effect<F, T>(
  name: string,
  does: (facts: F, exec: Exec) => Promise<T>,
  options: Options<F, T> & { shows?: Command } = {},
): Step<F> {
  const { shows, ...rest } = options;
  return {
    kind: "step",
    name,
    on: "host",
    effect: does,
    ...(shows ? { command: shows } : {}),
    ...(rest as Options<F, unknown>),
  };
}

export function later<F>(build: (facts: F) => Steps<F>): Later<F> {
  return { kind: "later", build };
}

async function perform<F>(s: Step<F>, facts: F, exec: Exec): Promise<unknown> {
  if (s.effect) return s.effect(facts, exec);
  if (!s.command) throw new Error(`step "${s.name}" has neither a command nor an effect`);
  return (s.on === "local" ? exec.local : exec.runner).run(s.command);
}

/** Runs the steps in order, each through Progress; the first failure that is not tolerated stops them. */
export async function runSteps<F>(steps: Steps<F>, facts: F, exec: Exec): Promise<void> {
  for (const s of steps) {
    if (s.kind === "later") {
      await runSteps(s.build(facts), facts, exec);
      continue;
    }
    exec.signal?.throwIfAborted();
    s.leaves?.(facts);
    // Recorded before the step runs: a run killed during it leaves the undo what the step may have done.
    await exec.noted?.(facts);
    try {
      await exec.progress.step(
        s.name,
        async () => {
          const value = await perform(s, facts, exec);
          s.keep?.(value, facts);
          return value;
        },
        (value) => s.detail?.(value),
      );
    } catch (error) {
      if (!s.tolerate) throw error;
      s.tolerate(facts, error as Error);
    }
    await exec.noted?.(facts);
  }
}

export interface Attempt {
  name: string;
  /** Absent when the step was done. */
  error?: Error;
}

/** Runs every step whatever became of the one before (an undo does all it can); progress names get `prefix`. */
export async function attemptSteps<F>(
  steps: Steps<F>,
  facts: F,
  exec: Exec,
  prefix: string,
): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (const s of steps) {
    if (s.kind === "later") {
      attempts.push(...(await attemptSteps(s.build(facts), facts, exec, prefix)));
      continue;
    }
    try {
      await runSteps([{ ...s, name: `${prefix}${s.name}` }], facts, exec);
      attempts.push({ name: s.name });
    } catch (error) {
      attempts.push({ name: s.name, error: error as Error });
    }
  }
  return attempts;
}

/** What --dry-run prints: every step with its command, `later` groups built from the placeholder facts. */
export function planSteps<F>(steps: Steps<F>, facts: F): PlannedStep[] {
  return steps.flatMap((s) =>
    s.kind === "later" ? planSteps(s.build(facts), facts) : [planned(s.name, s.command, s.note)],
  );
}

/**
 * An operation that changes a host: checks, then under the host's lock what it reads, what it changes
 * (undone on failure) and what follows once the change stands (reported on failure, never undone).
 */
export interface Operation<F> {
  /** Where the target stands; nothing changes yet, and the lock is not taken. */
  checks: Steps<F>;
  /** Taken after the checks and released at the end whatever happens. */
  lock: { environment: Environment; who: string; purpose: string };
  /** Under the lock, before anything changes: a failure has nothing to undo. */
  reads: Steps<F>;
  /** A failure here runs `undo`, then `failed` makes the error the operator reads. */
  changes: Steps<F>;
  /** Once the changes stand: a failure is reported as it is, not undone. */
  after: Steps<F>;
  /** What undoes a failure among `changes`, built from what they left behind in the facts. */
  undo: (facts: F, cause: Error) => Steps<F>;
  /**
   * What the undo needs, kept on the host while `changes` run (a killed run cannot undo itself; the next
   * one reads this under the lock and does). `record` gives the text to keep (null: nothing to undo yet).
   */
  journal?: { record: (facts: F) => string | null; write: (text: string) => Command; clear: Command };
  /** The error the operator reads; `at` names the step that failed (undefined: none of them). */
  failed: (cause: Error, at: string | undefined, undone: Attempt[], facts: F, exec: Exec) => Promise<Error>;
}

/**
 * Checks, then under the lock: reads, changes (journaled on the host when the operation keeps a journal),
 * and on failure or interrupt the undo; once the changes stand, what follows. The undo and `after` run to
 * their end whatever signal comes: stopping half way through either would leave less than now.
 */
export async function runOperation<F>(op: Operation<F>, facts: F, exec: Exec): Promise<void> {
  await runSteps(op.checks, facts, exec);
  const { environment, who, purpose } = op.lock;
  const settled: Exec = { ...exec, signal: undefined, noted: undefined };
  await withLock(exec.runner, environment, exec.progress, { who, purpose }, async () => {
    await runSteps(op.reads, facts, exec);
    const journal = op.journal ? journalKeeper(op.journal, exec.runner) : undefined;
    try {
      await runSteps(op.changes, facts, { ...exec, ...(journal ? { noted: journal.note } : {}) });
    } catch (error) {
      const cause = exec.signal?.aborted ? (exec.signal.reason as Error) : (error as Error);
      // An interrupt may fall between two steps: it is placed at the last one that began.
      const at =
        cause instanceof Interrupted
          ? exec.progress.steps.at(-1)?.step
          : exec.progress.steps.findLast((s) => !s.ok)?.step;
      const undone = await attemptSteps(op.undo(facts, cause), facts, settled, "rollback: ");
      // Kept when part of the undo failed: the next run tries that part again.
      if (journal && undone.every((u) => !u.error)) await journal.clear();
      throw await op.failed(cause, at, undone, facts, settled);
    }
    await journal?.clear();
    await runSteps(op.after, facts, settled);
  });
}

function journalKeeper<F>(journal: NonNullable<Operation<F>["journal"]>, runner: Runner) {
  let kept: string | null = null;
  return {
    note: async (facts: unknown) => {
      const text = journal.record(facts as F);
      if (text === kept) return;
      await runner.run(text === null ? journal.clear : journal.write(text));
      kept = text;
    },
    clear: async () => {
      if (kept !== null) await runner.run(journal.clear);
      kept = null;
    },
  };
}

/** The whole operation as --dry-run prints it; the lock's holder is a placeholder for the one a run records. */
export function planOperation<F>(op: Operation<F>, facts: F, holder: LockHolder): PlannedStep[] {
  const state = op.lock.environment.stateDirectory;
  return [
    ...planSteps(op.checks, facts),
    planned("lock", acquireLock(state, holder)),
    ...planSteps([...op.reads, ...op.changes, ...op.after], facts),
    planned("unlock", releaseLock(state, holder.token)),
  ];
}
