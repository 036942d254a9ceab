import { describe, expect, it } from "vitest";
import { createSecret, renderCompose, renderWithSecrets } from "../../src/commands/swarm.js";
import { STACK_SECRETS } from "../../src/setup/stack-env.js";
import {
  newestSecrets,
  placeholderSecrets,
  secretName,
  secretsToCreate,
  secretVariables,
  withSwarmSecrets,
} from "../../src/swarm/secrets.js";
import { environmentFrom, localEntry } from "../support/environment.js";

const VARIABLES = secretVariables(["DATABASE_URL", "REDIS_URL", "ADMIN_TOKEN"]);
const hint = { stack: "shop", setup: "shipyard setup --env=prod" };

/** compose.yaml's services as compose renders them with `secret(name)` for each secret setting. */
function rendered(secret: (name: string) => string) {
  const url = `postgres://app:${secret("POSTGRES_PASSWORD")}@postgres:5432/app`;
  return {
    services: {
      app: {
        image: "app@sha256:x",
        environment: {
          DATABASE_URL: url,
          REDIS_URL: `redis://:${secret("REDIS_PASSWORD")}@redis:6379/0`,
          ADMIN_TOKEN: secret("ADMIN_TOKEN"),
          PORT: "3000",
        },
      },
      migrate: { image: "app@sha256:x", environment: { DATABASE_URL: url } },
      postgres: {
        image: "postgres",
        environment: { POSTGRES_USER: "app", POSTGRES_PASSWORD: secret("POSTGRES_PASSWORD") },
      },
      redis: { image: "redis", environment: { REDISCLI_AUTH: secret("REDIS_PASSWORD") } },
      nginx: { image: "nginx" },
    },
  };
}
const placeholders = placeholderSecrets();
const deployRender = rendered((name) => placeholders[name] as string);
const setupRender = rendered((name) => `real-${name.toLowerCase()}`);

describe("setup makes the swarm's secrets", () => {
  const made = secretsToCreate(setupRender, VARIABLES, "shop");

  it("one per secret variable, with the value compose rendered (the URL with the password in it)", () => {
    expect(Object.fromEntries(made.map((s) => [s.variable, s.value]))).toEqual({
      DATABASE_URL: "postgres://app:real-postgres_password@postgres:5432/app",
      REDIS_URL: "redis://:real-redis_password@redis:6379/0",
      ADMIN_TOKEN: "real-admin_token",
      POSTGRES_PASSWORD: "real-postgres_password",
      REDISCLI_AUTH: "real-redis_password",
    });
    const name = secretName("shop", "DATABASE_URL", made[0]?.value ?? "");
    expect(name).toMatch(/^shop_database_url_[0-9a-f]{16}$/);
    // A new value is a new secret (Swarm's cannot change); the same value, the same one.
    expect(secretName("shop", "DATABASE_URL", "other")).not.toBe(name);
  });

  it("refuses a variable two services give different values: one secret has one", () => {
    const odd = structuredClone(setupRender);
    odd.services.migrate.environment.DATABASE_URL = "postgres://other";
    expect(() => secretsToCreate(odd, VARIABLES, "shop")).toThrow(
      "compose.yaml gives DATABASE_URL one value in app and another in migrate: a Swarm secret has one; make them the same",
    );
  });

  it("with every value on stdin, never in a command line (rendering, creating)", () => {
    const env = environmentFrom("prod", localEntry("/srv"));
    const values = Object.fromEntries(STACK_SECRETS.map((name) => [name, `v-${name}`]));
    const render = renderWithSecrets(env, values);
    expect(render.stdin).toContain("ADMIN_TOKEN=v-ADMIN_TOKEN\n");
    expect(render.argv.join(" ")).not.toContain("v-");
    const command = createSecret("shop", {
      name: "shop_admin_token_0123",
      variable: "ADMIN_TOKEN",
      value: "v",
    });
    expect(command.stdin).toBe("v");
    expect(command.argv).toContain("ADMIN_TOKEN");
    // A deploy's render names placeholders only.
    expect(renderCompose(env, "app@sha256:x", "r1").argv.join(" ")).toContain(
      "ADMIN_TOKEN=shipyard-swarm-secret",
    );
  });
});

describe("a deploy names the swarm's secrets in the stack file", () => {
  const inspected = JSON.stringify([
    ...VARIABLES.map((variable) => ({
      CreatedAt: "2026-12-01T10:00:00Z",
      Spec: { Name: `shop_${variable.toLowerCase()}_old`, Labels: { "shipyard.variable": variable } },
    })),
    // A rotated admin token: the newer one is used.
    {
      CreatedAt: "2026-12-02T10:00:00.5Z",
      Spec: { Name: "shop_admin_token_new", Labels: { "shipyard.variable": "ADMIN_TOKEN" } },
    },
  ]);
  const secrets = newestSecrets(inspected);
  const file = withSwarmSecrets(deployRender, VARIABLES, secrets, hint);
  const services = file.services as Record<string, Record<string, unknown>>;

  it("finds the newest secret for each variable", () => {
    expect(secrets.ADMIN_TOKEN).toBe("shop_admin_token_new");
    expect(secrets.DATABASE_URL).toBe("shop_database_url_old");
    expect(newestSecrets("")).toEqual({});
  });

  it("moves each secret variable to NAME_FILE, the app's, Postgres's and Redis's, and holds no placeholder", () => {
    expect(services.app?.environment).toEqual({
      PORT: "3000",
      DATABASE_URL_FILE: "/run/secrets/DATABASE_URL",
      REDIS_URL_FILE: "/run/secrets/REDIS_URL",
      ADMIN_TOKEN_FILE: "/run/secrets/ADMIN_TOKEN",
    });
    expect(services.app?.secrets).toContainEqual({ source: "shop_admin_token_new", target: "ADMIN_TOKEN" });
    expect(services.migrate?.environment).toEqual({ DATABASE_URL_FILE: "/run/secrets/DATABASE_URL" });
    expect(services.postgres?.environment).toEqual({
      POSTGRES_USER: "app",
      POSTGRES_PASSWORD_FILE: "/run/secrets/POSTGRES_PASSWORD",
    });
    expect(services.redis?.environment).toEqual({ REDISCLI_AUTH_FILE: "/run/secrets/REDISCLI_AUTH" });
    expect(services.nginx).toEqual({ image: "nginx" });
    expect(JSON.stringify(file)).not.toContain("shipyard-swarm-secret");
    expect(Object.keys(file.secrets as Record<string, unknown>).sort()).toEqual(
      [...new Set(Object.values(secrets))].sort(),
    );
  });

  it("says how to make a secret the swarm does not have", () => {
    const { ADMIN_TOKEN: _, ...withoutToken } = secrets;
    expect(() => withSwarmSecrets(deployRender, VARIABLES, withoutToken, hint)).toThrow(
      "the swarm has no secret for ADMIN_TOKEN of stack shop: run `shipyard setup --env=prod`",
    );
  });

  it("refuses a secret setting used outside a secret variable, which Swarm would get as the placeholder", () => {
    const odd = structuredClone(deployRender) as ReturnType<typeof rendered> & {
      services: { app: { command?: string } };
    };
    odd.services.app.command = `login ${placeholders.ADMIN_TOKEN}`;
    expect(() => withSwarmSecrets(odd, VARIABLES, secrets, hint)).toThrow(
      "compose.yaml puts a secret setting into services.app.command, which is not a secret variable",
    );
  });
});
