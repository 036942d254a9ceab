/** Many commands at once over the runner's one SSH connection, on a real OpenSSH server. */

import { rm } from "node:fs/promises";
import path from "node:path";
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
