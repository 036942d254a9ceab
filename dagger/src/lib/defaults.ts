/**
 * Every image the module runs, pinned by version. Each one is a constructor argument of the module, so a team
 * behind a registry mirror (or one that pins by digest) overrides it without editing code.
 */

/**
 * Node 24, the LTS line supported until April 2028 (Node 20 reached its end of life in April 2026). The
 * same major as app/Dockerfile and compose.dev.yaml; bookworm, so the deployer's Debian packages (its
 * Postgres client above all) are the ones DEPLOYER_POSTGRES_CLIENT_MAJOR names.
 */
export const DEFAULT_NODE_IMAGE = "node:24.21.0-bookworm-slim";

/**
 * Postgres 15: the major the stack runs (compose.yaml), the one Debian bookworm packages (the deployer's
 * pg_dump, the test harness's server) and supported until November 2027. The tag is compose.yaml's own, so
 * the tests' database, the scratch server that checks backups and production are one version. See
 * docs/versions.md for why not 16 or 17.
 */
/**
 * What the production image runs on: app/Dockerfile's RUNTIME_IMAGE default (glibc, libstdc++, CA
 * certificates and a non-root user; node itself comes from the Node image). A unit test keeps the two equal.
 */
export const DEFAULT_RUNTIME_IMAGE = "gcr.io/distroless/cc-debian12:nonroot";

export const DEFAULT_POSTGRES_IMAGE = "postgres:15-bookworm";

export const DEFAULT_REDIS_IMAGE = "redis:7.4.5-alpine";

/** Never 0.69.4 to 0.69.6: those Trivy releases were published by an attacker (March 2026, GHSA-69fq-xp46-6x23). */
export const DEFAULT_TRIVY_IMAGE = "aquasec/trivy:0.70.0";

/**
 * The deployer's docker client and compose v2 plugin. Docker Engine 29 and later refuse clients older than
 * API 1.44 (Debian bookworm's docker.io is 20.10, API 1.41). 28.2.2 is the client the deployer test runs
 * against an engine that enforces that minimum (dagger/test/deployer-docker-client.test.ts).
 */
export const DEFAULT_DOCKER_CLI_IMAGE = "docker:28.2.2-cli";

/**
 * --dockerfile left out: the first of app/Dockerfile and Dockerfile the source has (lib/app-build.ts), built
 * with the source root as context.
 */
export const DEFAULT_DOCKERFILE = "";

/** Severities at or above which `scan` fails, in Trivy's own comma-separated form. */
export const DEFAULT_SEVERITY_THRESHOLD = "HIGH,CRITICAL";
