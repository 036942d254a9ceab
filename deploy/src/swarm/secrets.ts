/**
 * The app's secrets on Swarm: each variable named in `app.secrets` leaves the environment of the services
 * that have it (the app, its migrate job) and becomes a Swarm secret, mounted as a file the app reads through
 * `NAME_FILE` (Docker's convention; the Node sample and the FastAPI example read it). Swarm keeps secrets
 * encrypted in its own store and gives them only to the tasks that use them, in memory; a variable would be
 * in the service's spec, which `docker service inspect` shows anyone with access to the manager. Pure.
 *
 * A Swarm secret cannot change, so its name carries a digest of the stack, the variable and the value: a new
 * value is a new secret, and the previous one stays for `docker service rollback`.
 */
import { createHash } from "node:crypto";

type Fields = Record<string, unknown>;

export interface SwarmSecret {
  /** Its name in the swarm: `<stack>_<variable>_<digest>`. */
  name: string;
  value: string;
}

/** Where Swarm mounts a service's secrets. */
export const SECRETS_DIRECTORY = "/run/secrets";

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

/** The stack file with `variables` moved into Swarm secrets, and the secrets it names (to create first). */
export function withSwarmSecrets(
  stackFile: Fields,
  variables: readonly string[],
  stack: string,
): { stackFile: Fields; secrets: SwarmSecret[] } {
  const secrets = new Map<string, SwarmSecret>();
  const services = Object.fromEntries(
    Object.entries(stackFile.services as Record<string, Fields>).map(([name, service]) => {
      const environment = environmentMap(service.environment);
      const moved = variables.filter((variable) => environment[variable] !== undefined);
      if (moved.length === 0) return [name, service];
      const mounts = moved.map((variable) => {
        const value = environment[variable] as string;
        const secret = { name: secretName(stack, variable, value), value };
        secrets.set(secret.name, secret);
        delete environment[variable];
        environment[`${variable}_FILE`] = `${SECRETS_DIRECTORY}/${variable}`;
        return { source: secret.name, target: variable };
      });
      const existing = (service.secrets as unknown[] | undefined) ?? [];
      return [name, { ...service, environment, secrets: [...existing, ...mounts] }];
    }),
  );
  const declared = Object.fromEntries([...secrets.keys()].map((name) => [name, { external: true }]));
  return {
    stackFile: {
      ...stackFile,
      services,
      ...(secrets.size > 0
        ? { secrets: { ...((stackFile.secrets as Fields | undefined) ?? {}), ...declared } }
        : {}),
    },
    secrets: [...secrets.values()],
  };
}
