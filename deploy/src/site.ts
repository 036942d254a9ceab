/**
 * Requests to the site through its public URL, as users reach it, for the deploy's checks and `status`.
 *
 * Besides the authorities Node trusts (and NODE_EXTRA_CA_CERTS), they trust the certificate the host's nginx
 * serves, read from the host over the pinned SSH connection: a fresh host serves setup's temporary
 * self-signed certificate until Let's Encrypt's replaces it, and a deploy from a CI runner (`dagger call
 * deploy`) has no copy of it. Trusting what the host's own files say it serves proves the same thing as a
 * public authority would here (that nginx answers for publicUrl with the stack's certificate), and a real
 * certificate passes either way.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import tls from "node:tls";
import { readFileIfPresent, readSettings } from "./commands/files.js";
import type { Environment } from "./config/environments.js";
import type { Runner } from "./runner.js";
import { certificateDirectory, parseStackSettings } from "./setup/stack-env.js";
import { effect, type Steps } from "./steps.js";

export interface SiteAnswer {
  status: number;
  body: string;
}

/** One GET of an absolute URL with a deadline; redirects are answers, not followed. */
export type SiteGet = (url: URL, timeoutMs: number) => Promise<SiteAnswer>;

/** Answers larger than this are cut: the checks read a health status and a small JSON body. */
const MAX_BODY_BYTES = 64 * 1024;

function extraAuthorities(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file, "utf8")];
  } catch {
    return [];
  }
}

/** GETs that trust `certificate` (PEM) too; without one, as Node trusts by default (NODE_EXTRA_CA_CERTS included). */
export function siteGet(certificate: string | null): SiteGet {
  // Given a ca list Node trusts only that list, so the defaults and NODE_EXTRA_CA_CERTS go in it too.
  const agent = certificate
    ? new https.Agent({ ca: [...tls.rootCertificates, ...extraAuthorities(), certificate] })
    : undefined;
  return (url, timeoutMs) =>
    new Promise((resolve, reject) => {
      const client = url.protocol === "https:" ? https : http;
      const request = client.get(url, agent && url.protocol === "https:" ? { agent } : {}, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8").slice(0, MAX_BODY_BYTES),
          }),
        );
        response.on("error", reject);
      });
      request.setTimeout(timeoutMs, () =>
        request.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)),
      );
      request.on("error", reject);
    });
}

/** The commands that read the certificate the stack serves: TLS_CERT_DIR from compose/.env, then the file. */
export const servedCertificateCommands = (env: Environment) => ({
  settings: readSettings(path.posix.join(env.compose.directory, ".env"), ["TLS_CERT_DIR"]),
  certificate: (settingsText: string) =>
    readFileIfPresent(
      path.posix.join(
        certificateDirectory(env.compose.directory, parseStackSettings(settingsText)),
        "fullchain.pem",
      ),
    ),
});

const servesHttps = (env: Environment) => new URL(env.publicUrl).protocol === "https:";
const pemOf = (text: string) => (text.includes("BEGIN CERTIFICATE") ? text : null);

/** The step that reads the certificate the host's nginx serves for an https publicUrl into the facts. */
export function servedCertificateSteps<F extends { servedCertificate: string | null }>(
  env: Environment,
): Steps<F> {
  if (!servesHttps(env)) return [];
  return [
    effect<F, string | null>("read the served certificate", (_, x) => readServedCertificate(x.runner, env), {
      shows: servedCertificateCommands(env).settings,
      keep: (pem, f) => {
        f.servedCertificate = pem;
      },
      detail: (pem) => (pem ? "found: the checks through publicUrl trust it" : "none there"),
      note: "TLS_CERT_DIR from compose/.env, then its fullchain.pem (setup's temporary one on a fresh host): the checks through publicUrl trust it",
    }),
  ];
}

/** The PEM the host's nginx serves for an https publicUrl, or null (plain http, none there, or unreadable). */
export async function readServedCertificate(runner: Runner, env: Environment): Promise<string | null> {
  if (!servesHttps(env)) return null;
  const commands = servedCertificateCommands(env);
  try {
    const settings = await runner.run(commands.settings);
    return pemOf((await runner.run(commands.certificate(settings.stdout))).stdout);
  } catch {
    return null;
  }
}
