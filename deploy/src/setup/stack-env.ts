/**
 * compose/.env for a fresh host, decided here and written by setup: the repository's compose/.env.example
 * with a fresh secret for each variable compose.yaml requires, and nginx listening where publicUrl says.
 * Also what setup reads back from a host's .env: the two settings it needs, never a secret.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";

/**
 * The secrets compose.yaml requires (`${NAME:?…}`) and .env.example leaves empty; a unit test checks the
 * list against both files. URL-safe (they go into connection URLs), as compose/init-env.sh makes them.
 */
export const STACK_SECRETS = ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "ADMIN_TOKEN", "GRAFANA_ADMIN_PASSWORD"];

export const freshSecret = () => randomBytes(24).toString("hex");

/** Where nginx listens: publicUrl's port, and on a loopback address only the loopback (init-env.sh --dev). */
export function listenSettings(publicUrl: string): Record<string, string> {
  const url = new URL(publicUrl);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  const settings: Record<string, string> = loopback ? { BIND_ADDRESS: "127.0.0.1", HTTP_PORT: "8080" } : {};
  if (url.port) settings[url.protocol === "http:" ? "HTTP_PORT" : "HTTPS_PORT"] = url.port;
  return settings;
}

/**
 * Each secret's value: the one given in the CLI's environment under its name (a team that keeps its
 * admin token in a password manager), else a fresh one.
 */
export function secretValues(
  given: Readonly<Record<string, string | undefined>>,
  fresh: () => string = freshSecret,
): Record<string, string> {
  return Object.fromEntries(STACK_SECRETS.map((name) => [name, given[name] || fresh()]));
}

/**
 * The template's lines with each secret filled in from `secrets` (null: left empty, as on Swarm, whose
 * secrets are the swarm's) and `settings` replacing their lines; the rest as it is.
 */
export function stackEnvText(
  template: string,
  settings: Record<string, string>,
  secrets: Readonly<Record<string, string>> | null = secretValues({}),
): string {
  const missing = STACK_SECRETS.filter((name) => !new RegExp(`^${name}=$`, "m").test(template));
  if (missing.length)
    throw new Error(
      `compose/.env.example has no empty line for ${missing.join(", ")}: cannot fill in secrets`,
    );
  const lines = template.split("\n").map((line) => {
    const name = /^([A-Z_][A-Z0-9_]*)=/.exec(line)?.[1];
    if (!name) return line;
    if (STACK_SECRETS.includes(name) && line === `${name}=`)
      return secrets ? `${name}=${secrets[name]}` : line;
    return name in settings ? `${name}=${settings[name]}` : line;
  });
  return lines.join("\n");
}

/** What setup needs from the stack's settings, with compose.yaml's defaults where .env sets nothing. */
export interface StackSettings {
  /** compose.yaml's `${NGINX_IMAGE:-nginx:stable}`: the image the certificate is made with. */
  nginxImage: string;
  /** compose.yaml's `${TLS_CERT_DIR:-./certs}`, relative to the compose directory: where the certificate goes. */
  tlsCertDir: string;
}

export const SETTINGS_READ = ["NGINX_IMAGE", "TLS_CERT_DIR"] as const;
export const COMPOSE_DEFAULTS: StackSettings = { nginxImage: "nginx:stable", tlsCertDir: "./certs" };

/** From KEY=value lines (the last one wins, as compose reads .env); other lines are ignored. */
export function parseStackSettings(text: string): StackSettings {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values.set(match[1], unquote(match[2].trim()));
  }
  return {
    nginxImage: values.get("NGINX_IMAGE") || COMPOSE_DEFAULTS.nginxImage,
    tlsCertDir: values.get("TLS_CERT_DIR") || COMPOSE_DEFAULTS.tlsCertDir,
  };
}

/** Where the stack's certificate is: TLS_CERT_DIR, relative to the compose directory as compose reads it. */
export function certificateDirectory(composeDirectory: string, settings: StackSettings): string {
  return path.posix.isAbsolute(settings.tlsCertDir)
    ? path.posix.normalize(settings.tlsCertDir)
    : path.posix.join(composeDirectory, settings.tlsCertDir);
}

const unquote = (value: string) => /^(["'])(.*)\1$/.exec(value)?.[2] ?? value;
