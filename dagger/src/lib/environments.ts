/**
 * What the module must know of deploy/environments.yaml before it wires a deployer, because nothing the CLI
 * prints can tell it sooner: how the environment is reached (`target.kind`: run the CLI in the deployer, or
 * on the host's engine) and the name the database URL is exported under (`database.urlEnv`). Both are read
 * as the file states them; the deploy CLI validates the whole file (deploy/src/config/environments.ts) when
 * it runs, so nothing here checks a value the CLI checks again.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidInputError } from "./invalid-input.js";

/** The file the CLI reads by default, relative to the source (the CLI runs from the source root). */
export const ENVIRONMENTS_FILE = "deploy/environments.yaml";

export type TargetKind = "local" | "ssh";

/** One environment as the module reads it: the two fields the deployer's wiring depends on. */
export interface EnvironmentFacts {
  targetKind: TargetKind;
  /** The variable the CLI reads the database URL from; --database-url is exported under it. */
  urlEnv: string;
}

const environmentsFile = z.object({
  environments: z.record(
    z.string(),
    z.object({
      target: z.object({ kind: z.enum(["local", "ssh"]) }),
      database: z.object({ urlEnv: z.string() }),
    }),
  ),
});

/** How `env` is reached and where its database URL goes; an unknown name is one line listing the valid ones. */
export function environmentFacts(yamlText: string, env: string): EnvironmentFacts {
  let data: unknown;
  try {
    data = parseYaml(yamlText);
  } catch (error) {
    throw new InvalidInputError(`${ENVIRONMENTS_FILE} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = environmentsFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `${ENVIRONMENTS_FILE}: ${issue?.path.join(".") || "(file)"}: ${issue?.message}; each environment needs target.kind (local or ssh) and database.urlEnv`,
    );
  }
  const { environments } = parsed.data;
  const environment = Object.hasOwn(environments, env) ? environments[env] : undefined;
  if (!environment) {
    throw new InvalidInputError(
      `--env: unknown environment "${env}"; valid environments in ${ENVIRONMENTS_FILE}: ${Object.keys(environments).join(", ")}`,
    );
  }
  return { targetKind: environment.target.kind, urlEnv: environment.database.urlEnv };
}
