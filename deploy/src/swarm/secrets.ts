/**
 * The stack's secrets on Swarm, decided here. They live in the swarm only: `setup` creates them once, from
 * what compose renders of compose.yaml with fresh values (so DATABASE_URL is the URL with the password in
 * it); compose/.env on the manager holds settings and no secret. A deploy renders compose.yaml with a
 * placeholder for each secret setting, and each variable that carries one leaves the services' environment
 * for a Swarm secret mounted at /run/secrets/NAME, with `NAME_FILE` pointing there (Docker's convention:
 * the Node sample, the FastAPI example and Postgres's image read it; compose.yaml's Redis does too). Swarm
 * keeps secrets encrypted in its store and gives them only to the tasks that use them, in memory; a
 * variable would be in the service's spec, which `docker service inspect` shows anyone on a manager. Pure.
 *
 * A Swarm secret cannot change, so its name carries a digest of its value, and its labels say which stack
 * and which variable it is: a rotated value is a new secret (the newest is used), and the previous one
 * stays for `docker service rollback`. They are not the stack's (`docker stack rm` keeps them, as it keeps
 * the volumes whose passwords they are).
 */
import { createHash } from "node:crypto";
import { STACK_SECRETS } from "../setup/stack-env.js";

type Fields = Record<string, unknown>;

export interface SwarmSecret {
  /** Its name in the swarm: `<stack>_<variable>_<digest>`. */
  name: string;
  /** The variable it replaces in the services' environment. */
  variable: string;
  value: string;
}

/** Where Swarm mounts a service's secrets. */
export const SECRETS_DIRECTORY = "/run/secrets";

/** The labels a secret is found by: whose stack, which variable. */
export const STACK_LABEL = "shipyard.stack";
export const VARIABLE_LABEL = "shipyard.variable";

/**
 * compose.yaml's data services' secret variables: Postgres's image reads POSTGRES_PASSWORD_FILE, and
 * compose.yaml's Redis reads REDISCLI_AUTH_FILE (its command and its healthcheck).
 */
export const DATA_SECRETS = ["POSTGRES_PASSWORD", "REDISCLI_AUTH"] as const;

/** Every variable that holds a secret in some service: the app's (app.secrets) and the data services'. */
export const secretVariables = (appSecrets: readonly string[]): string[] => [
  ...new Set([...appSecrets, ...DATA_SECRETS]),
];

const PLACEHOLDER = "shipyard-swarm-secret";

/** What a deploy renders compose.yaml with for each secret setting: a marker, never a value. */
export const placeholderSecrets = (): Record<string, string> =>
  Object.fromEntries(STACK_SECRETS.map((name) => [name, `${PLACEHOLDER}-${name.toLowerCase()}`]));

export function secretName(stack: string, variable: string, value: string): string {
  const digest = createHash("sha256").update(`${stack}\0${variable}\0${value}`).digest("hex").slice(0, 16);
  return `${stack}_${variable.toLowerCase()}_${digest}`;
}

/** compose renders `environment` as a map; a list (`KEY=value`) is read as one too. */
function environmentMap(environment: unknown): Record<string, string> {
  if (Array.isArray(environment))
    return Object.fromEntries(
      environment.map((entry) => {
        const [key = "", ...value] = String(entry).split("=");
        return [key, value.join("=")];
      }),
    );
  return Object.fromEntries(
    Object.entries((environment as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [
      k,
      v === null || v === undefined ? "" : String(v),
    ]),
  );
}

const servicesOf = (rendered: Fields) => (rendered.services ?? {}) as Record<string, Fields>;

/**
 * The secrets setup creates: each secret variable's value as compose rendered it with the real values.
 * One variable is one secret, so two services that give it different values are a mistake in compose.yaml.
 */
export function secretsToCreate(
  rendered: Fields,
  variables: readonly string[],
  stack: string,
): SwarmSecret[] {
  const values = new Map<string, { value: string; service: string }>();
  for (const [service, fields] of Object.entries(servicesOf(rendered))) {
    const environment = environmentMap(fields.environment);
    for (const variable of variables) {
      const value = environment[variable];
      if (value === undefined) continue;
      const seen = values.get(variable);
      if (seen && seen.value !== value)
        throw new Error(
          `compose.yaml gives ${variable} one value in ${seen.service} and another in ${service}: a Swarm secret has one; make them the same`,
        );
      values.set(variable, { value, service });
    }
  }
  return [...values].map(([variable, { value }]) => ({
    name: secretName(stack, variable, value),
    variable,
    value,
  }));
}

interface InspectedSecret {
  CreatedAt?: string;
  Spec?: { Name?: string; Labels?: Record<string, string> };
}

/** From `docker secret inspect` of the stack's secrets: the newest secret's name for each variable. */
export function newestSecrets(inspected: string): Record<string, string> {
  const secrets = (JSON.parse(inspected.trim() || "[]") as InspectedSecret[])
    .map((s) => ({
      name: s.Spec?.Name ?? "",
      variable: s.Spec?.Labels?.[VARIABLE_LABEL] ?? "",
      created: Date.parse(s.CreatedAt ?? "") || 0,
    }))
    .filter((s) => s.name && s.variable)
    .sort((a, b) => a.created - b.created);
  return Object.fromEntries(secrets.map((s) => [s.variable, s.name]));
}

/** The first place in `value` that holds a placeholder, as a path ("services.app.command"), or null. */
function placeholderAt(value: unknown, at: string): string | null {
  if (typeof value === "string") return value.includes(PLACEHOLDER) ? at : null;
  if (value && typeof value === "object")
    for (const [key, inner] of Object.entries(value)) {
      const found = placeholderAt(inner, `${at}.${key}`);
      if (found) return found;
    }
  return null;
}

/**
 * The stack file with each secret variable moved into the swarm's secret for it (`secrets`: variable →
 * name, from newestSecrets). A variable the swarm has no secret for is one line saying how to make it; so
 * is a secret setting compose.yaml puts anywhere but a secret variable, where it would reach Swarm as the
 * placeholder.
 */
export function withSwarmSecrets(
  stackFile: Fields,
  variables: readonly string[],
  secrets: Readonly<Record<string, string>>,
  hint: { stack: string; setup: string },
): Fields {
  const used = new Set<string>();
  const missing = new Set<string>();
  const services = Object.fromEntries(
    Object.entries(servicesOf(stackFile)).map(([name, service]) => {
      const environment = environmentMap(service.environment);
      const moved = variables.filter((variable) => environment[variable] !== undefined);
      if (moved.length === 0) return [name, service];
      const mounts = moved.flatMap((variable) => {
        const secret = secrets[variable];
        delete environment[variable];
        if (!secret) {
          missing.add(variable);
          return [];
        }
        used.add(secret);
        environment[`${variable}_FILE`] = `${SECRETS_DIRECTORY}/${variable}`;
        return [{ source: secret, target: variable }];
      });
      const existing = (service.secrets as unknown[] | undefined) ?? [];
      return [name, { ...service, environment, secrets: [...existing, ...mounts] }];
    }),
  );
  if (missing.size > 0)
    throw new Error(
      `the swarm has no secret for ${[...missing].join(", ")} of stack ${hint.stack}: run \`${hint.setup}\`, which makes them when the stack has none, or make each with \`docker secret create --label ${STACK_LABEL}=${hint.stack} --label ${VARIABLE_LABEL}=NAME ${hint.stack}_name_1 -\` (value on stdin)`,
    );
  const file = {
    ...stackFile,
    services,
    ...(used.size > 0
      ? {
          secrets: {
            ...((stackFile.secrets as Fields | undefined) ?? {}),
            ...Object.fromEntries([...used].map((name) => [name, { external: true }])),
          },
        }
      : {}),
  };
  const leak = placeholderAt(file.services, "services");
  if (leak)
    throw new Error(
      `compose.yaml puts a secret setting into ${leak}, which is not a secret variable: use it only in one named in app.secrets (or ${DATA_SECRETS.join(", ")})`,
    );
  return file;
}
