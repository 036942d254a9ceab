/** The real app behind the host's nginx, on throw-away Postgres and Redis: what the nginx tests and benchmark run. */
import { type EphemeralPostgres, startPostgres } from "../../harness/ephemeral-postgres.js";
import { type EphemeralRedis, startRedis } from "../../harness/ephemeral-redis.js";
import { buildApp, type HostApp, startHostApp } from "./host-app.js";
import { type HostNginx, startHostNginx } from "./nginx-host.js";

export interface EdgeStack {
  readonly app: HostApp;
  readonly nginx: HostNginx;
  stop(): Promise<void>;
}

export async function startEdgeStack(options: {
  database: string;
  appEnv?: Record<string, string>;
  /** Per-client nginx rate, e.g. "1000000r/s"; only the benchmark lifts it. */
  rate?: string;
}): Promise<EdgeStack> {
  let postgres: EphemeralPostgres | undefined;
  let redis: EphemeralRedis | undefined;
  let app: HostApp | undefined;
  let nginx: HostNginx | undefined;
  const stop = async () => {
    await nginx?.stop();
    await app?.stop();
    await redis?.stop();
    await postgres?.stop();
  };
  try {
    await buildApp();
    postgres = await startPostgres();
    redis = await startRedis();
    app = await startHostApp({
      databaseUrl: await postgres.createDatabase(options.database),
      redisUrl: redis.url,
      ...(options.appEnv ? { env: options.appEnv } : {}),
    });
    nginx = await startHostNginx(`127.0.0.1:${app.port}`, options.rate ? { rate: options.rate } : {});
    return { app, nginx, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
