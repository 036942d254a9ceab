/** A real Redis server in a scratch directory on a free 127.0.0.1 port; it can be stopped and started again. */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { execa, type ResultPromise } from "execa";
import { Redis } from "ioredis";
import { freePort, waitUntil } from "./network.js";
import { stopProcess } from "./process.js";
import { makeScratchDir } from "./scratch-dir.js";
import { redisConfig, redisServerArgv } from "./server-plans.js";

export interface EphemeralRedis {
  url: string;
  dir: string;
  /** The running server's pid, or undefined while paused. */
  pid(): number | undefined;
  /** Stops the server but keeps its port and directory, so start() brings the same address back. */
  pause(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<EphemeralRedis> {
  const dir = await makeScratchDir("redis");
  const port = await freePort();
  const password = randomBytes(18).toString("base64url");
  const url = `redis://:${password}@127.0.0.1:${port}/0`;
  let server: ResultPromise | undefined;

  const start = async () => {
    const [file, ...args] = redisServerArgv();
    server = execa(file, args, {
      input: redisConfig({ port, dir, password }),
      stdout: "ignore",
      reject: false,
      cleanup: false, // see ephemeral-postgres.ts
    });
    await waitUntil(
      "Redis",
      async () => {
        const client = new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        client.on("error", () => {}); // refusals are expected until the server listens
        try {
          await client.connect();
          return (await client.ping()) === "PONG";
        } finally {
          client.disconnect();
        }
      },
      15_000,
      25,
    );
  };
  const pause = async () => {
    if (server) await stopProcess(server, "SIGTERM");
    server = undefined;
  };

  try {
    await start();
  } catch (error) {
    await pause();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    dir,
    pid: () => server?.pid,
    pause,
    start,
    async stop() {
      await pause();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
