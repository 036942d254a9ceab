import type { Environment } from "../../src/config/environments.js";

/** A local environment whose state and backups live under `dir`, as a test fixture. */
export function localEnvironment(dir: string, overrides: Partial<Environment> = {}): Environment {
  return {
    name: "local",
    target: { kind: "local" },
    compose: {
      project: "shipyard",
      directory: "compose",
      cli: "docker compose",
      appService: "app",
      nginxService: "nginx",
      nginxConfDirectory: "nginx/conf.d",
    },
    stateDirectory: `${dir}/state`,
    publicUrl: "https://127.0.0.1:8443",
    healthPath: "/healthz",
    database: { urlEnv: "DATABASE_URL" },
    timeouts: { commandSeconds: 120, healthSeconds: 60, lockStaleMinutes: 60 },
    watch: { seconds: 30, maxErrorPercent: 1, minRequests: 20 },
    backup: { directory: `${dir}/backups`, retention: { last: 3, daily: 7, weekly: 4 }, encryptTo: [] },
    requireConfirmation: false,
    ...overrides,
  };
}
