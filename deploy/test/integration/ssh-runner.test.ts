/** Many commands at once over the runner's one SSH connection, on a real OpenSSH server. */

import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_SECONDS, deadline } from "../../../test/harness/deadline.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { SSH_SESSIONS_PER_CONNECTION, sshRunner } from "../../src/runner.js";
import { startSshServer, type TestSshServer } from "../support/ssh-server.js";

let sshd: TestSshServer;
let dir: string;
beforeAll(async () => {
  [sshd, dir] = await Promise.all([startSshServer(), makeScratchDir("ssh-burst")]);
});
afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("a burst of commands over SSH", () => {
  it(
    "all succeed, never more at once than sshd allows on one connection",
    async () => {
      expect(SSH_SESSIONS_PER_CONNECTION).toBeLessThan(10); // sshd's default MaxSessions
      const runner = await sshRunner(
        sshd.target,
        { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile },
        COMMAND_SECONDS,
      );
      try {
        const running = path.join(dir, "running");
        // Each command marks itself running, counts the marks, holds its session a moment, then leaves.
        const script = 'mkdir -p "$1" && touch "$1/$2" && ls "$1" | wc -l && sleep 2 && rm "$1/$2"';
        const burst = 24;
        const counts = await Promise.all(
          Array.from({ length: burst }, (_, i) =>
            runner
              .run({ argv: ["sh", "-c", script, "sh", running, `c${i}`] })
              .then((r) => Number(r.stdout.trim())),
          ),
        );
        expect(counts).toHaveLength(burst);
        expect(Math.max(...counts)).toBeLessThanOrEqual(SSH_SESSIONS_PER_CONNECTION);
        expect(Math.max(...counts)).toBeGreaterThan(1); // they did run side by side
      } finally {
        await runner.close();
      }
      // Twenty-four commands, eight at a time: three rounds, after the connection is opened.
    },
    deadline({ command: 4 }),
  );
});

describe("what a killed CLI leaves of its SSH session", () => {
  /** The master ssh process listening on `socket`, if one runs. */
  const masterOf = async (socket: string) =>
    (await execa("pgrep", ["-f", socket], { reject: false })).stdout.trim();

  it(
    "the next run closes its master connection and removes its directory with the key copy",
    async () => {
      // A CLI that opens its runner with the key given as text, then dies without running any cleanup.
      const script = `
        import { sshRunner } from ${JSON.stringify(path.resolve("deploy/src/runner.ts"))};
        await sshRunner(${JSON.stringify(sshd.target)}, { SHIPYARD_SSH_KEY: process.env.KEY }, 60);
        process.kill(process.pid, "SIGKILL");
      `;
      const key = await readFile(sshd.clientKeyFile, "utf8");
      const killed = execa("node", ["--import", "tsx", "--input-type=module", "-e", script], {
        reject: false,
        env: { KEY: key },
      });
      const { signal } = await killed;
      expect(signal).toBe("SIGKILL");
      const left = (await readdir(os.tmpdir())).filter((n) => n.startsWith(`shipyard-ssh-${killed.pid}-`));
      expect(left).toHaveLength(1);
      const leftDir = path.join(os.tmpdir(), left[0] as string);
      expect((await readdir(leftDir)).some((f) => f.startsWith("id-"))).toBe(true);
      expect(await masterOf(path.join(leftDir, "master.sock"))).not.toBe("");

      const next = await sshRunner(
        sshd.target,
        { SHIPYARD_SSH_KEY_FILE: sshd.clientKeyFile },
        COMMAND_SECONDS,
      );
      await next.close();
      expect(existsSync(leftDir)).toBe(false);
      expect(await masterOf(path.join(leftDir, "master.sock"))).toBe("");
    },
    deadline({ command: 6 }),
  );
});
