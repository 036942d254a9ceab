/**
 * What the module must know of deploy/environments.yaml before it wires a deployer, because nothing the CLI
 * prints can tell it sooner: how the environment is reached (`target.kind`: run the CLI in the deployer, or
 * on the host's engine), the names the database URL and the webhook's URL are exported under
 * (`database.urlEnv`, `notify.webhookUrlEnv`), whether its
 * backups are encrypted (`backup.encryptTo`, so `backup` never hands out a plain file for one that is) and
 * where they are checked (`backup.where`: on the server, or on a scratch Postgres beside the deployer); and
 * the project's `image` section, where deploy and publish push when their flags leave it out. All are read
 * as the file states them; the deploy CLI validates the whole file (deploy/src/config/environments.ts) when
 * it runs, and publishing checks the registry and repository as it checks the flags, so nothing here checks a
 * value a second time.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidInputError } from "./invalid-input.js";

/** The file the CLI reads by default, relative to the source (the CLI runs from the source root). */
export const ENVIRONMENTS_FILE = "deploy/environments.yaml";

export const TARGET_KINDS = ["local", "ssh", "swarm"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** ssh and swarm (a manager) are reached over SSH with the key; local runs on the host's engine. */
export const reachedOverSsh = (kind: TargetKind): boolean => kind !== "local";

/** One environment as the module reads it: the fields the deployer's wiring and backup's answer depend on. */
export interface EnvironmentFacts {
  targetKind: TargetKind;
  /** The variable the CLI reads the database URL from; --database-url is exported under it. */
  urlEnv: string;
  /** backup.encryptTo names recipients: the CLI stores (and backup returns) age-encrypted files only. */
  encryptsBackups: boolean;
  /** backup.where: server: backups are made and checked on the host, so the deployer needs no scratch Postgres. */
  backupsOnServer: boolean;
  /** The variable the CLI reads the webhook's URL from (notify.webhookUrlEnv); absent: it notifies no one. */
  webhookUrlEnv?: string;
}

/** The project's `image` section: where deploy and publish push when a flag leaves a field out. */
export interface ImageSettings {
  registry?: string;
  repository?: string;
  username?: string;
  sourceUrl?: string;
}

const environmentsFile = z.object({
  environments: z.record(
    z.string(),
    z.object({
      target: z.object({ kind: z.enum(TARGET_KINDS) }),
      database: z.object({ urlEnv: z.string() }),
      backup: z
        .object({ encryptTo: z.array(z.string()).optional(), where: z.string().optional() })
        .optional(),
      notify: z.object({ webhookUrlEnv: z.string() }).optional(),
    }),
  ),
});

const imageSection = z.object({
  image: z
    .object({ registry: z.string(), repository: z.string(), username: z.string(), sourceUrl: z.string() })
    .partial()
    .optional(),
});

function readYaml(yamlText: string): unknown {
  try {
    return parseYaml(yamlText);
  } catch (error) {
    throw new InvalidInputError(`${ENVIRONMENTS_FILE} is not valid YAML: ${(error as Error).message}`);
  }
}

/** How `env` is reached and where its database URL goes; an unknown name is one line listing the valid ones. */
export function environmentFacts(yamlText: string, env: string): EnvironmentFacts {
  const parsed = environmentsFile.safeParse(readYaml(yamlText));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `${ENVIRONMENTS_FILE}: ${issue?.path.join(".") || "(file)"}: ${issue?.message}; each environment needs target.kind (${TARGET_KINDS.join(", ")}) and database.urlEnv`,
    );
  }
  const { environments } = parsed.data;
  const environment = Object.hasOwn(environments, env) ? environments[env] : undefined;
  if (!environment) {
    throw new InvalidInputError(
      `--env: unknown environment "${env}"; valid environments in ${ENVIRONMENTS_FILE}: ${Object.keys(environments).join(", ")}`,
    );
  }
  return {
    targetKind: environment.target.kind,
    urlEnv: environment.database.urlEnv,
    encryptsBackups: (environment.backup?.encryptTo ?? []).length > 0,
    backupsOnServer: environment.backup?.where === "server",
    ...(environment.notify ? { webhookUrlEnv: environment.notify.webhookUrlEnv } : {}),
  };
}

/** The project's `image` section ({} when the file has none, or no file: every field then comes from flags). */
export function imageSettings(yamlText: string | undefined): ImageSettings {
  if (yamlText === undefined) return {};
  const parsed = imageSection.safeParse(readYaml(yamlText));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `${ENVIRONMENTS_FILE}: ${issue?.path.join(".") || "(file)"}: ${issue?.message}; image holds registry, repository, username and sourceUrl as strings`,
    );
  }
  return parsed.data.image ?? {};
}
