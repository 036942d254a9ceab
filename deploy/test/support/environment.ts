/**
 * Environments for tests, built the one way the CLI gets them: as an environments file read by the real
 * parser and zod schema (config/environments.ts), so a fixture the CLI would refuse fails where it is made,
 * and defaults come from the schema rather than from a copy of it.
 */
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import type { z } from "zod";
import {
  type Environment,
  type environmentsFileSchema,
  parseEnvironments,
  selectEnvironment,
} from "../../src/config/environments.js";

/** One environment as the file spells it: what the schema accepts, before it fills in defaults. */
export type EnvironmentEntry = z.input<typeof environmentsFileSchema>["environments"][string];

/**
 * A compose project under `dir`, for tests whose backups really run: a backup of a local environment writes
 * its time beside compose.yaml (backup-time.ts), which must not be the repository's compose/.
 */
export function composeIn(dir: string): EnvironmentEntry["compose"] {
  return { project: "shipyard", directory: `${dir}/compose`, nginxConfDirectory: `${dir}/nginx/conf.d` };
}

/** The smallest local environment, its state and backups under `dir`; `overrides` replace whole keys. */
export function localEntry(dir: string, overrides: Partial<EnvironmentEntry> = {}): EnvironmentEntry {
  return {
    target: { kind: "local" },
    compose: { project: "shipyard", directory: "compose", nginxConfDirectory: "nginx/conf.d" },
    stateDirectory: `${dir}/state`,
    publicUrl: "https://127.0.0.1:8443",
    database: { urlEnv: "DATABASE_URL" },
    backup: { directory: `${dir}/backups`, retention: { daily: 7, weekly: 4 } },
    ...overrides,
  };
}

const FIXTURE = "the test's environments file";

/** The text of an environments file; the CLI's own parser reads it first, so an invalid fixture throws here. */
export function environmentsYaml(environments: Record<string, EnvironmentEntry>): string {
  const text = stringify({ version: 1, environments });
  parseEnvironments(text, FIXTURE);
  return text;
}

/** For tests of what the schema refuses: the same layout, not checked. */
export function uncheckedEnvironmentsYaml(environments: Record<string, unknown>): string {
  return stringify({ version: 1, environments });
}

/** Writes `file` (environmentsYaml) and returns its path, for --config. */
export async function writeEnvironmentsFile(
  file: string,
  environments: Record<string, EnvironmentEntry>,
): Promise<string> {
  await writeFile(file, environmentsYaml(environments));
  return file;
}

/** One environment as the CLI holds it after loading the file: validated, defaults filled in, named. */
export function environmentFrom(name: string, entry: EnvironmentEntry): Environment {
  return selectEnvironment(parseEnvironments(environmentsYaml({ [name]: entry }), FIXTURE), name, FIXTURE);
}

/** A local environment whose state and backups live under `dir`, as a test fixture. */
export function localEnvironment(dir: string, overrides: Partial<Environment> = {}): Environment {
  const entry = localEntry(dir, {
    backup: { directory: `${dir}/backups`, retention: { last: 3, daily: 7, weekly: 4 } },
    // Shorter than the defaults: a test that hangs fails sooner.
    timeouts: { commandSeconds: 120, healthSeconds: 60, lockStaleMinutes: 60 },
  });
  return { ...environmentFrom("local", entry), ...overrides };
}
