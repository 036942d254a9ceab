/** Taking, showing and releasing the deploy lock through the runner of the environment's host. */
import { randomBytes } from "node:crypto";
import os from "node:os";
import {
  abandonedHere,
  acquireLock,
  describeHolder,
  HELD_EXIT_CODE,
  type LockHolder,
  parseLockHolder,
  readLock,
  releaseLock,
} from "./commands/lock.js";
import type { Environment } from "./config/environments.js";
import { isRunning } from "./processes.js";
import type { Progress } from "./progress.js";
import type { Runner } from "./runner.js";

export class LockHeld extends Error {
  override name = "LockHeld";
  constructor(
    readonly holder: LockHolder | null,
    message: string,
    /** Its holder's process is gone from this machine: the lock may be taken over (abandonedHere). */
    readonly abandoned = false,
  ) {
    super(message);
  }
}

export async function currentHolder(runner: Runner, environment: Environment): Promise<LockHolder | null> {
  return parseLockHolder((await runner.run(readLock(environment.stateDirectory))).stdout);
}

export async function acquire(
  runner: Runner,
  environment: Environment,
  who: { who: string; purpose: string },
  now: Date = new Date(),
): Promise<LockHolder> {
  const holder: LockHolder = {
    holder: who.who,
    purpose: who.purpose,
    since: now.toISOString(),
    token: randomBytes(12).toString("hex"),
    pid: process.pid,
    host: os.hostname(),
  };
  const { exitCode } = await runner.run(acquireLock(environment.stateDirectory, holder));
  if (exitCode === HELD_EXIT_CODE) {
    const current = await currentHolder(runner, environment).catch(() => null);
    const description = current
      ? describeHolder(current, now, environment.timeouts.lockStaleMinutes)
      : "held, but its holder file cannot be read";
    const abandoned = current !== null && abandonedHere(current, os.hostname(), isRunning);
    throw new LockHeld(
      current,
      `${environment.name} is locked on ${runner.where}: ${description}; if that run has ended (killed, ` +
        `or its CI job cancelled), run \`shipyard lock break --env=${environment.name}\`: the next deploy ` +
        "then undoes what it left",
      abandoned,
    );
  }
  return holder;
}

export async function release(
  runner: Runner,
  environment: Environment,
  holder: LockHolder,
): Promise<boolean> {
  const { exitCode } = await runner.run(releaseLock(environment.stateDirectory, holder.token));
  return exitCode === 0;
}

/** The lock is released whatever `work` does; a release that finds someone else's lock says so. */
export async function withLock<T>(
  runner: Runner,
  environment: Environment,
  progress: Progress,
  who: { who: string; purpose: string },
  work: () => Promise<T>,
): Promise<T> {
  const take = () =>
    progress.step(
      "lock",
      () => acquire(runner, environment, who),
      (h) => `${h.holder} (${h.purpose})`,
    );
  const holder = await take().catch(async (error: unknown) => {
    if (!(error instanceof LockHeld && error.abandoned && error.holder)) throw error;
    const gone = error.holder;
    await progress.step(
      `take over the lock of ${gone.holder} (${gone.purpose})`,
      // Only that holder's lock goes: if another run took it over first, ours is refused as usual.
      () => runner.run(releaseLock(environment.stateDirectory, gone.token)),
      () => `its process ${gone.pid} on this machine is gone`,
    );
    return take();
  });
  const unlock = () =>
    progress.step("unlock", async () => {
      if (!(await release(runner, environment, holder))) {
        throw new Error("the lock was no longer ours (broken by an operator?); left as it is");
      }
    });
  let value: T;
  try {
    value = await work();
  } catch (error) {
    // The work's failure is the story; a failed unlock is added to it, not put in its place.
    await unlock().catch((unlockError: Error) => {
      (error as Error).message += `; also, releasing the lock failed: ${unlockError.message}`;
    });
    throw error;
  }
  await unlock();
  return value;
}
