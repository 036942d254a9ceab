import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import os from "node:os";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { waitUntil } from "../harness/network.js";
import { sweepStaleScratchDirs } from "../harness/scratch-dir.js";

const FIXTURE = new URL("./fixtures/hold-servers.ts", import.meta.url).pathname;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function holdServers(mode: "direct" | "global-setup") {
  const child = execa(process.execPath, ["--import", "tsx", FIXTURE, mode], {
    reject: false,
    forceKillAfterDelay: false,
    env: { DATABASE_URL: "", REDIS_URL: "" },
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve(String(chunk).split("\n")[0] ?? ""));
    child.once("exit", () => reject(new Error("fixture exited before it started the servers")));
  });
  return { child, report: JSON.parse(firstLine) };
}

const scratchDirsOf = async (pid: number) =>
  (await readdir(os.tmpdir())).filter((name) => name.startsWith(`shipyard-test-${pid}-`));

describe("throw-away servers", () => {
  it("die with a test run that is killed outright, and the next run removes their files", async () => {
    const { child, report } = await holdServers("direct");
    const { pids, dirs } = report as { pids: number[]; dirs: string[] };
    expect(pids.every(isRunning)).toBe(true);

    child.kill("SIGKILL");
    await child;
    await waitUntil("servers gone", async () => !pids.some(isRunning), 10_000);
    expect(dirs.every((dir) => existsSync(dir))).toBe(true); // a killed run cannot clean up after itself...

    await sweepStaleScratchDirs(); // ...so the next run does
    expect(dirs.some((dir) => existsSync(dir))).toBe(false);
  });

  it("are stopped and removed when a test run is interrupted", async () => {
    const { child, report } = await holdServers("global-setup");
    expect(report.provided.databaseUrl).toMatch(/^postgres:\/\/.*\/app_test$/);
    const childPid = child.pid as number;
    expect(await scratchDirsOf(childPid)).toHaveLength(2);

    child.kill("SIGINT");
    const exited = await child;
    // The run still ends as interrupted (killed by SIGINT, or 130 where a handler re-exits).
    expect(exited.signal === "SIGINT" || exited.exitCode === 130).toBe(true);
    expect(await scratchDirsOf(childPid)).toEqual([]);
  });
});
