/**
 * Every image the module runs, pinned by version. Each one is a constructor argument of the module, so a team
 * behind a registry mirror (or one that pins by digest) overrides it without editing code.
 */

/** Matches the Node the repository's own CI runs (`node --version` on the build machines). */
export const DEFAULT_NODE_IMAGE = "node:20.20.2-bookworm-slim";

export const DEFAULT_POSTGRES_IMAGE = "postgres:17.6-alpine";

export const DEFAULT_REDIS_IMAGE = "redis:7.4.5-alpine";

/** Never 0.69.4 to 0.69.6: those Trivy releases were published by an attacker (March 2026, GHSA-69fq-xp46-6x23). */
export const DEFAULT_TRIVY_IMAGE = "aquasec/trivy:0.70.0";

/**
 * The deployer's docker client and compose v2 plugin. Docker Engine 29 and later refuse clients older than
 * API 1.44 (Debian bookworm's docker.io is 20.10, API 1.41). 28.2.2 is the client the deployer test runs
 * against an engine that enforces that minimum (dagger/test/deployer-docker-client.test.ts).
 */
export const DEFAULT_DOCKER_CLI_IMAGE = "docker:28.2.2-cli";

/** The production image is built from this Dockerfile, with the repository root as build context. */
export const DEFAULT_DOCKERFILE = "app/Dockerfile";

/** Severities at or above which `scan` fails, in Trivy's own comma-separated form. */
export const DEFAULT_SEVERITY_THRESHOLD = "HIGH,CRITICAL";

/** The npm script `test` runs: lint, type-check, unit and integration tests. */
export const DEFAULT_TEST_SCRIPT = "test:app";
