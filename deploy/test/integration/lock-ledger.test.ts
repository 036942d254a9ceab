/**
 * The deploy lock and the release ledger on a real host: this machine, reached directly and over
 * real SSH (OpenSSH on 127.0.0.1 with a pinned host key), with the same commands.
 */
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { COMMAND_SECONDS, deadline } from "../../../test/harness/deadline.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { appendRelease, parseLedger, type ReleaseRecord, recentReleases } from "../../src/commands/ledger.js";
import { acquireLock, breakLock } from "../../src/commands/lock.js";
import { acquire, currentHolder, LockHeld, release, withLock } from "../../src/locking.js";
import { Progress } from "../../src/progress.js";
import { localRunner, type Runner, sshRunner } from "../../src/runner.js";
import { localEnvironment } from "../support/environment.js";
import { startSshServer, type TestSshServer } from "../support/ssh-server.js";

let sshd: TestSshServer;
let dir: string;
beforeAll(async () => {
  [sshd, dir] = await Promise.all([startSshServer(), makeScratchDir("lock")]);
});
afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

const record = (n: number): ReleaseRecord => ({
  release: `r${n}`,
  env: "local",
  who: "test",
  at: new Date(Date.UTC(2026, 10, 23, 10, 0, n)).toISOString(),
  image: "shipyard/app:test",
  digest: `sha256:${String(n % 10).repeat(64)}`,
  result: n % 2 ? "succeeded" : "failed",
});

const runners: Record<string, () => Promise<Runner>> = {
  local: async () => localRunner(COMMAND_SECONDS),
  ssh: () => sshRunner(sshd.target, { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile }, COMMAND_SECONDS),
};

describe.each(Object.keys(runners))("over %s", (kind) => {
  let runner: Runner;
  let env: ReturnType<typeof localEnvironment>;
  beforeAll(async () => {
    runner = await (runners[kind] as () => Promise<Runner>)();
    return () => runner.close();
  });
  // Each test has a state directory of its own: a lock one test leaves held never fails the next.
  let tests = 0;
  beforeEach(() => {
    tests += 1;
    env = localEnvironment(path.join(dir, kind, `test-${tests}`));
  });

  it(
    "a second deploy is refused while the first holds the lock, and is told who holds it since when",
    async () => {
      const first = await acquire(runner, env, { who: "ana@laptop", purpose: "deploy r1" });
      const refused = acquire(runner, env, { who: "ci@runner", purpose: "deploy r2" });
      await expect(refused).rejects.toThrow(LockHeld);
      await expect(refused).rejects.toThrow(
        `local is locked on ${runner.where}: held by ana@laptop for deploy r1 since ${first.since} (0 min ago, process ${process.pid} on ${os.hostname()})`,
      );
      expect(await currentHolder(runner, env)).toEqual(first);
      expect(await release(runner, env, first)).toBe(true);
      expect(await currentHolder(runner, env)).toBeNull();
    },
    deadline({ command: 6 }),
  );

  it(
    "of many racing deploys exactly one gets the lock",
    async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => acquire(runner, env, { who: `racer ${i}`, purpose: "deploy" })),
      );
      const winners = results.filter((r) => r.status === "fulfilled");
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.status === "rejected" && r.reason instanceof LockHeld)).toHaveLength(7);
      await release(
        runner,
        env,
        (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquire>>>).value,
      );
      // Eight acquires, then the seven losers read the holder, then one release: three rounds of commands.
    },
    deadline({ command: 3 }),
  );

  it(
    "a stale lock is reported as such with how to break it, and breaking it lets the next deploy in",
    async () => {
      const old = await acquire(
        runner,
        env,
        { who: "crashed@ci", purpose: "deploy" },
        new Date(Date.now() - 3 * 3600_000),
      );
      await expect(acquire(runner, env, { who: "ana", purpose: "deploy" })).rejects.toThrow(
        /held by crashed@ci for deploy since .* \(180 min ago, process \d+ on .*\); older than 60 min, .*shipyard lock break/,
      );
      await runner.run(breakLock(env.stateDirectory));
      const next = await acquire(runner, env, { who: "ana", purpose: "deploy" });
      // The crashed run's release (if it ever came back) must not remove the new holder's lock.
      expect(await release(runner, env, old)).toBe(false);
      expect(await currentHolder(runner, env)).toEqual(next);
      await release(runner, env, next);
    },
    deadline({ command: 8 }),
  );

  it(
    "a lock whose process is gone from this machine (kill -9) is taken over, and says so; a live one is not",
    async () => {
      // A process that has ended: its pid is what a killed CLI leaves in the holder file.
      const ended = execa("true");
      await ended;
      const pid = ended.pid as number;
      const gone = { holder: "killed@laptop", purpose: "deploy r8", since: new Date().toISOString() };
      await runner.run(
        acquireLock(env.stateDirectory, {
          ...gone,
          token: "t".repeat(12),
          pid,
          host: os.hostname(),
        }),
      );
      const lines: string[] = [];
      const ran = await withLock(
        runner,
        env,
        new Progress((l) => lines.push(l)),
        { who: "ana", purpose: "deploy r9" },
        async () => currentHolder(runner, env),
      );
      expect(ran).toMatchObject({
        holder: "ana",
        purpose: "deploy r9",
        pid: process.pid,
        host: os.hostname(),
      });
      expect(lines.join("\n")).toMatch(
        new RegExp(
          `✓ take over the lock of killed@laptop \\(deploy r8\\) \\([\\d.]+ s\\) its process ${pid} on this machine is gone`,
        ),
      );
      expect(await currentHolder(runner, env)).toBeNull();

      // The same holder on another machine: only its operator can know it has ended.
      await runner.run(
        acquireLock(env.stateDirectory, {
          ...gone,
          token: "u".repeat(12),
          pid,
          host: "ci-runner-7",
        }),
      );
      await expect(acquire(runner, env, { who: "ana", purpose: "deploy r9" })).rejects.toThrow(
        `held by killed@laptop for deploy r8 since ${gone.since} (0 min ago, process ${pid} on ci-runner-7); if that run has ended (killed, or its CI job cancelled), run \`shipyard lock break --env=local\`: the next deploy then undoes what it left`,
      );
      await runner.run(breakLock(env.stateDirectory));
    },
    deadline({ command: 10 }),
  );

  it(
    "the lock is released when the locked work fails",
    async () => {
      await expect(
        withLock(runner, env, new Progress(() => {}), { who: "ana", purpose: "deploy" }, async () => {
          throw new Error("health check failed");
        }),
      ).rejects.toThrow("health check failed");
      expect(await currentHolder(runner, env)).toBeNull();
    },
    deadline({ command: 3 }),
  );

  it(
    "the ledger keeps every record of concurrent appends, whole and in one line each",
    async () => {
      const records = Array.from({ length: 20 }, (_, i) => record(i));
      await Promise.all(records.map((r) => runner.run(appendRelease(env.stateDirectory, r))));
      const all = parseLedger((await runner.run(recentReleases(env.stateDirectory, 100))).stdout);
      expect(all).toHaveLength(20);
      expect(new Set(all.map((r) => r.release))).toEqual(new Set(records.map((r) => r.release)));
      await runner.run(appendRelease(env.stateDirectory, record(99)));
      const lastTwo = parseLedger((await runner.run(recentReleases(env.stateDirectory, 2))).stdout);
      expect(lastTwo.at(-1)).toEqual(record(99));
      expect(lastTwo).toHaveLength(2);
      // Twenty appends, eight at a time (three rounds), then a read, an append and a read.
    },
    deadline({ command: 6 }),
  );

  it(
    "an empty ledger reads as no releases",
    async () => {
      expect(parseLedger((await runner.run(recentReleases(env.stateDirectory, 5))).stdout)).toEqual([]);
    },
    deadline({ command: 1 }),
  );
});

describe("ssh host key pinning", () => {
  it("refuses a host whose key is not the pinned one", async () => {
    const keyDir = await makeScratchDir("otherkey");
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path.join(keyDir, "k")]);
    const [type, key] = (await execa("cat", [path.join(keyDir, "k.pub")])).stdout.split(" ");
    await rm(keyDir, { recursive: true, force: true });
    await expect(
      sshRunner(
        { ...sshd.target, hostKey: `${type} ${key}` },
        { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile },
        30,
      ),
    ).rejects.toThrow(/Host key verification failed/);
  });

  it("takes the key's text from SHIPYARD_SSH_KEY and never runs secrets in a remote argv", async () => {
    const keyText = (await execa("cat", [sshd.clientKeyFile])).stdout;
    const runner = await sshRunner(sshd.target, { SHIPYARD_SSH_KEY: keyText }, COMMAND_SECONDS);
    try {
      expect((await runner.run({ argv: ["echo", "it's", "$HOME"] })).stdout).toBe("it's $HOME\n");
      await expect(runner.run({ argv: ["pg_dump"], env: { PGPASSWORD: "x" } })).rejects.toThrow(
        /refusing to run `pg_dump` over SSH with environment variables/,
      );
    } finally {
      await runner.close();
    }
  });

  it("says which variable to set when no key is given", async () => {
    await expect(sshRunner(sshd.target, {}, COMMAND_SECONDS)).rejects.toThrow(
      /set SHIPYARD_SSH_KEY .* or SHIPYARD_SSH_KEY_FILE/,
    );
  });
});
