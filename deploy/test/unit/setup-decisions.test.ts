/** What setup decides without a host: the fresh compose/.env, the settings it reads back, the version floors. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { subjectAltName } from "../../src/commands/certificate.js";
import { setupPaths } from "../../src/setup/setup.js";
import {
  COMPOSE_DEFAULTS,
  listenSettings,
  parseStackSettings,
  STACK_SECRETS,
  secretValues,
  stackEnvText,
} from "../../src/setup/stack-env.js";
import { checkComposeVersion, checkEngineVersion } from "../../src/setup/versions.js";
import { type EnvironmentEntry, environmentFrom, localEntry } from "../support/environment.js";

const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
const COMPOSE_YAML = readFileSync(path.join(REPO_ROOT, "compose/compose.yaml"), "utf8");
const TEMPLATE = readFileSync(path.join(REPO_ROOT, "compose/.env.example"), "utf8");

describe("a fresh compose/.env", () => {
  it("fills in every variable compose.yaml requires (NAME:? in compose.yaml), each with its own fresh secret", () => {
    const required = new Set([...COMPOSE_YAML.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => m[1]));
    expect([...required].sort()).toEqual([...STACK_SECRETS].sort());
    const text = stackEnvText(TEMPLATE, {});
    const values = STACK_SECRETS.map((name) => new RegExp(`^${name}=([0-9a-f]{48})$`, "m").exec(text)?.[1]);
    expect(values.every(Boolean)).toBe(true);
    expect(new Set(values).size).toBe(STACK_SECRETS.length);
  });

  it("keeps the example's other lines and comments, and replaces only the settings given", () => {
    const text = stackEnvText(
      TEMPLATE,
      { HTTPS_PORT: "8443" },
      secretValues({}, () => "s"),
    );
    expect(text.split("\n").filter((l) => !/^(HTTPS_PORT|[A-Z_]+_(PASSWORD|TOKEN))=/.test(l))).toEqual(
      TEMPLATE.split("\n").filter((l) => !/^(HTTPS_PORT|[A-Z_]+_(PASSWORD|TOKEN))=/.test(l)),
    );
    expect(text).toMatch(/^HTTPS_PORT=8443$/m);
  });

  it("takes a secret given in the CLI's environment under its name, and makes the others fresh", () => {
    const values = secretValues({ ADMIN_TOKEN: "from-my-password-manager", REDIS_PASSWORD: "" });
    expect(values.ADMIN_TOKEN).toBe("from-my-password-manager");
    // An empty variable is not a value: a fresh one, as for one not set.
    expect(values.REDIS_PASSWORD).toMatch(/^[0-9a-f]{48}$/);
    expect(stackEnvText(TEMPLATE, {}, values)).toMatch(/^ADMIN_TOKEN=from-my-password-manager$/m);
  });

  it("leaves every secret empty for Swarm, whose secrets are the swarm's: the file holds settings only", () => {
    const text = stackEnvText(TEMPLATE, { HTTPS_PORT: "8443" }, null);
    for (const name of STACK_SECRETS) expect(text).toMatch(new RegExp(`^${name}=$`, "m"));
    expect(text).toMatch(/^HTTPS_PORT=8443$/m);
  });

  it("refuses a template that has no empty line for a secret, rather than write a stack that cannot start", () => {
    expect(() => stackEnvText(TEMPLATE.replace(/^ADMIN_TOKEN=$/m, ""), {})).toThrow(
      "compose/.env.example has no empty line for ADMIN_TOKEN",
    );
  });

  it.each([
    ["https://prod.example.com", {}],
    ["https://prod.example.com:8443", { HTTPS_PORT: "8443" }],
    ["https://127.0.0.1:8443", { BIND_ADDRESS: "127.0.0.1", HTTP_PORT: "8080", HTTPS_PORT: "8443" }],
    ["http://localhost:8080", { BIND_ADDRESS: "127.0.0.1", HTTP_PORT: "8080" }],
  ])("has nginx listen where %s says", (url, settings) => {
    expect(listenSettings(url)).toEqual(settings);
  });
});

describe("the settings setup reads back from a host's compose/.env", () => {
  it("are compose.yaml's own defaults where .env sets nothing", () => {
    expect(COMPOSE_YAML).toContain(`\${NGINX_IMAGE:-${COMPOSE_DEFAULTS.nginxImage}}`);
    expect(COMPOSE_YAML).toContain(`\${TLS_CERT_DIR:-${COMPOSE_DEFAULTS.tlsCertDir}}`);
    expect(parseStackSettings("")).toEqual(COMPOSE_DEFAULTS);
    expect(parseStackSettings("TLS_CERT_DIR=\n")).toEqual(COMPOSE_DEFAULTS);
  });

  it("take the last line, as compose does, and drop quotes", () => {
    expect(
      parseStackSettings("TLS_CERT_DIR=./a\nTLS_CERT_DIR=\"/etc/tls\"\nNGINX_IMAGE='m/nginx:1'\n"),
    ).toEqual({
      nginxImage: "m/nginx:1",
      tlsCertDir: "/etc/tls",
    });
  });
});

describe("the version floors", () => {
  it.each(["20.10.24", "27.3.1", "28.0.0-rc.1"])("accepts Docker engine %s", (v) => {
    expect(checkEngineVersion(`${v}\n`)).toBe(v);
  });

  it("refuses an engine older than 20.10, or an answer it cannot read", () => {
    expect(() => checkEngineVersion("19.03.15")).toThrow("Docker engine 19.03.15 is too old");
    expect(() => checkEngineVersion("")).toThrow("cannot read the Docker engine's version");
  });

  it.each([
    "Docker Compose version v2.29.7",
    "Docker Compose version 2.20.2+ds1-0ubuntu1~22.04.1",
    "docker-compose version 1.29.2, build unknown",
  ])("accepts %s", (v) => {
    expect(checkComposeVersion(`${v}\n`)).toBe(v);
  });

  it("refuses docker-compose before 1.29, which has no service_completed_successfully", () => {
    expect(() => checkComposeVersion("docker-compose version 1.25.0, build 0a186604")).toThrow(
      "docker-compose version 1.25.0, build 0a186604 is too old",
    );
  });
});

describe("the temporary certificate", () => {
  it("names the host as its address or its name, and the loopback address", () => {
    expect(subjectAltName("prod.example.com")).toBe("DNS:prod.example.com,IP:127.0.0.1");
    expect(subjectAltName("203.0.113.7")).toBe("IP:203.0.113.7,IP:127.0.0.1");
    expect(subjectAltName("127.0.0.1")).toBe("IP:127.0.0.1");
    expect(subjectAltName("[2001:db8::1]")).toBe("IP:2001:db8::1,IP:127.0.0.1");
  });
});

describe("the directories setup makes on an SSH host", () => {
  const ssh = {
    target: { kind: "ssh" as const, host: "prod.example.com", user: "deploy", hostKey: "ssh-ed25519 AAAA" },
    compose: {
      project: "shop",
      directory: "/srv/shop/compose",
      nginxConfDirectory: "/srv/shop/nginx/conf.d",
    },
    stateDirectory: "/srv/shop/state",
    database: { urlEnv: "DATABASE_URL", dumpFrom: "compose-service" as const },
  };
  const made = (entry: EnvironmentEntry) =>
    setupPaths(environmentFrom("prod", entry)).directories.map(([, dir]) => dir);

  it("include the backup directory beside the ledger when backups are kept on the server", () => {
    const entry = localEntry("/unused", {
      ...ssh,
      backup: { where: "server", retention: { daily: 7, weekly: 4 } },
    });
    expect(made(entry)).toEqual([
      "/srv/shop/compose",
      "/srv/shop/nginx/conf.d",
      "/srv/shop/state",
      "/srv/shop/state/backups",
    ]);
  });

  it("leave out a backup directory that lives on the machine running the CLI", () => {
    const entry = localEntry("/laptop", ssh);
    expect(made(entry)).not.toContain("/laptop/backups");
  });
});
