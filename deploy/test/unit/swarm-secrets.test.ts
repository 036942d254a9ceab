import { describe, expect, it } from "vitest";
import { createSecret } from "../../src/commands/swarm.js";
import { secretName, withSwarmSecrets } from "../../src/swarm/secrets.js";

const url = "postgres://app:s3cret@postgres:5432/app";
const stackFile = {
  version: "3.9",
  services: {
    app: {
      image: "app@sha256:x",
      environment: { DATABASE_URL: url, ADMIN_TOKEN: "0123456789abcdef", PORT: "3000" },
    },
    migrate: { image: "app@sha256:x", environment: { DATABASE_URL: url } },
    nginx: { image: "nginx" },
  },
};

describe("the app's secrets on Swarm", () => {
  const { stackFile: file, secrets } = withSwarmSecrets(
    stackFile,
    ["DATABASE_URL", "ADMIN_TOKEN", "REDIS_URL"],
    "shop",
  );
  const services = file.services as Record<string, Record<string, unknown>>;

  it("leave the services' environment for files the app reads through NAME_FILE", () => {
    expect(services.app?.environment).toEqual({
      PORT: "3000",
      DATABASE_URL_FILE: "/run/secrets/DATABASE_URL",
      ADMIN_TOKEN_FILE: "/run/secrets/ADMIN_TOKEN",
    });
    expect(services.app?.secrets).toEqual([
      { source: secretName("shop", "DATABASE_URL", url), target: "DATABASE_URL" },
      { source: secretName("shop", "ADMIN_TOKEN", "0123456789abcdef"), target: "ADMIN_TOKEN" },
    ]);
    expect(services.migrate?.environment).toEqual({ DATABASE_URL_FILE: "/run/secrets/DATABASE_URL" });
    expect(services.nginx).toEqual({ image: "nginx" });
    // Nowhere in the file the stack is deployed from.
    expect(JSON.stringify(file)).not.toContain("s3cret");
  });

  it("are one Swarm secret per value, declared external (created first), named after a digest of the value", () => {
    expect(secrets.map((s) => s.value).sort()).toEqual(["0123456789abcdef", url]);
    expect(Object.values(file.secrets as Record<string, unknown>)).toEqual([
      { external: true },
      { external: true },
    ]);
    const name = secretName("shop", "DATABASE_URL", url);
    expect(name).toMatch(/^shop_database_url_[0-9a-f]{16}$/);
    expect(name).not.toContain("s3cret");
    // A new value is a new secret (Swarm's cannot change); the same value, the same one.
    expect(secretName("shop", "DATABASE_URL", `${url}x`)).not.toBe(name);
    expect(secretName("shop", "DATABASE_URL", url)).toBe(name);
  });

  it("are created with the value on stdin, never in the command line", () => {
    const command = createSecret("shop", { name: "shop_admin_token_0123", value: "0123456789abcdef" });
    expect(command.stdin).toBe("0123456789abcdef");
    expect(command.argv.join(" ")).not.toContain("0123456789abcdef");
  });
});
