/** The engine the Docker tests run on: empty when it starts, and gone without a trace when it stops. */
import { existsSync } from "node:fs";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../docker/engine.js";

const inEngine = (host: string, args: string[]) => execa("docker", args, { env: { DOCKER_HOST: host } });

describe("the test engine", () => {
  it("starts empty on a bridge of its own, and leaves no file, mount or bridge when stopped", async () => {
    const engine = await startTestEngine({});
    const socket = engine.host.slice("unix://".length);
    const bridge = (
      await inEngine(engine.host, [
        "network",
        "inspect",
        "--format",
        '{{index .Options "com.docker.network.bridge.name"}}',
        "bridge",
      ])
    ).stdout.trim();
    try {
      expect(engine.fresh).toBe(true);
      expect(engine.host).not.toBe(process.env.DOCKER_HOST); // not the run's engine either
      expect((await inEngine(engine.host, ["images", "--quiet"])).stdout).toBe("");
      expect(await engine.leftovers()).toEqual([]);
      expect(bridge).toMatch(/^shipyd/);
      expect((await execa("ip", ["link", "show", bridge], { reject: false })).exitCode).toBe(0);
    } finally {
      await engine.stop();
    }
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(socket.replace(/\/docker\.sock$/, ""))).toBe(false);
    expect((await execa("ip", ["link", "show", bridge], { reject: false })).exitCode).not.toBe(0);
    expect((await execa("findmnt", ["-rn", "-o", "TARGET"])).stdout).not.toContain(
      socket.replace(/\/docker\.sock$/, ""),
    );
  });

  it("refuses an engine named by SHIPYARD_TEST_DOCKER_HOST that does not answer, saying what to do", async () => {
    await expect(
      startTestEngine({ SHIPYARD_TEST_DOCKER_HOST: "unix:///nonexistent/docker.sock" }),
    ).rejects.toThrow(
      "SHIPYARD_TEST_DOCKER_HOST=unix:///nonexistent/docker.sock does not answer `docker info`; start it or unset the variable",
    );
  });
});
