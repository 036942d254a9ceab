/**
 * What the module needs to know of deploy/environments.yaml before it wires a deployer: how the
 * environment is reached. The deploy CLI validates the whole file (deploy/src/config/environments.ts) when
 * it runs; the module reads only `target.kind`, so an environment named anything can be local, and one
 * named "local" can be a server reached over SSH.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidInputError } from "./invalid-input.js";

/** The file the CLI reads by default, relative to the source (the CLI runs from the source root). */
export const ENVIRONMENTS_FILE = "deploy/environments.yaml";

export type TargetKind = "local" | "ssh";

const environmentsFile = z.object({
  environments: z.record(z.string(), z.object({ target: z.object({ kind: z.enum(["local", "ssh"]) }) })),
});

/** How `env` is reached, by its `target.kind`; an unknown name is one line listing the valid ones. */
export function targetKind(yamlText: string, env: string): TargetKind {
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
      `${ENVIRONMENTS_FILE}: ${issue?.path.join(".") || "(file)"}: ${issue?.message}; each environment needs target.kind local or ssh`,
    );
  }
  const environment = parsed.data.environments[env];
  if (!environment) {
    const names = Object.keys(parsed.data.environments).join(", ");
    throw new InvalidInputError(
      `--env: unknown environment "${env}"; valid environments in ${ENVIRONMENTS_FILE}: ${names}`,
    );
  }
  return environment.target.kind;
}
