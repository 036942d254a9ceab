/** The throwaway Postgres and Redis the tests run against: one small function per service. */
import { dag, type Secret, type Service } from "@dagger.io/dagger";
import {
  POSTGRES_PORT,
  postgresReadinessProbe,
  postgresServerArgs,
  REDIS_CONFIG_PATH,
  REDIS_PORT,
  type TestDatabase,
} from "./lib/test-plan.js";

/**
 * Postgres is ready when pg_isready says so, not when its port opens: the image's entrypoint runs a first
 * server to create the user and database before the real one starts. Dagger waits for this healthcheck
 * before it runs anything bound to the service.
 */
export function postgresService(
  image: string,
  db: Pick<TestDatabase, "user" | "database">,
  password: Secret,
): Service {
  return dag
    .container()
    .from(image)
    .withEnvVariable("POSTGRES_USER", db.user)
    .withEnvVariable("POSTGRES_DB", db.database)
    .withSecretVariable("POSTGRES_PASSWORD", password)
    .withExposedPort(POSTGRES_PORT)
    .withDockerHealthcheck(postgresReadinessProbe(db), {
      startPeriod: "60s",
      startInterval: "1s",
      interval: "5s",
      timeout: "3s",
      retries: 3,
    })
    .asService({ args: postgresServerArgs(), useEntrypoint: true });
}

/** Redis answers on its port as soon as it can serve, so Dagger's own exposed-port check is its readiness. */
export function redisService(image: string, config: Secret): Service {
  return dag
    .container()
    .from(image)
    .withMountedSecret(REDIS_CONFIG_PATH, config)
    .withExposedPort(REDIS_PORT)
    .asService({ args: ["redis-server", REDIS_CONFIG_PATH] });
}
