/**
 * Runs the repository's nginx configuration with the host's nginx (Debian's), unchanged except for
 * what differs between a container and a test on 127.0.0.1: listen addresses, web roots, the access
 * log file, the upstream file (which a deploy rewrites the same way) and, for benchmarks only, the
 * rate limit.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { upstreamSelector } from "../../../deploy/src/commands/nginx.js";
import { freePort, waitUntil } from "../../harness/network.js";
import { stopProcess } from "../../harness/process.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const NGINX_DIR = join(REPO_ROOT, "nginx");

export interface HostLayout {
  readonly httpPort: number;
  readonly httpsPort: number;
  /** host:port of the app the upstream points at. */
  readonly upstream: string;
  readonly htmlRoot: string;
  readonly acmeRoot: string;
  /** Replaces the per-client request rate (e.g. "100000r/s"); only the benchmark uses it. */
  readonly rate?: string;
}

function replaceAll(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) {
    throw new Error(`${file} no longer contains "${from}": update test/stack/support/nginx-host.ts`);
  }
  return text.split(from).join(to);
}

/** The upstream file a deploy writes: same shape as nginx/conf.d/upstream.conf (`backups`: its watch window). */
export function upstreamConf(servers: readonly string[], backups: readonly string[] = []): string {
  const lines = [
    ...servers.map((server) => `  server ${server} max_fails=3 fail_timeout=10s;`),
    ...backups.map((server) => `  server ${server} backup;`),
  ];
  return `upstream app {\n${lines.join("\n")}\n  keepalive 32;\n}\n${upstreamSelector("app")}`;
}

/** Adapts the configuration files (path relative to nginx/ → text) for a run on the host. Pure. */
export function adaptForHost(files: ReadonlyMap<string, string>, layout: HostLayout): Map<string, string> {
  const out = new Map(files);
  const site = "conf.d/shipyard.conf";
  let text = files.get(site);
  if (text === undefined) throw new Error(`nginx/${site} is missing`);
  text = replaceAll(
    text,
    "listen 8080 default_server;",
    `listen 127.0.0.1:${layout.httpPort} default_server;`,
    site,
  );
  text = replaceAll(
    text,
    "listen 8443 ssl http2 default_server;",
    `listen 127.0.0.1:${layout.httpsPort} ssl http2 default_server;`,
    site,
  );
  text = replaceAll(text, "root /usr/share/nginx/html;", `root ${layout.htmlRoot};`, site);
  text = replaceAll(text, "root /var/www/certbot;", `root ${layout.acmeRoot};`, site);
  out.set(site, text);
  out.set("conf.d/upstream.conf", upstreamConf([layout.upstream]));
  // A Node child's stdout is a socket, which nginx cannot open as /dev/stdout: log to a file instead, with
  // the same buffering (so the benchmark measures it, and a reader of the file waits for the flush).
  let main = files.get("nginx.conf") ?? "";
  main = replaceAll(main, "access_log /dev/stdout json", "access_log access.log json", "nginx.conf");
  if (layout.rate) main = replaceAll(main, "rate=20r/s", `rate=${layout.rate}`, "nginx.conf");
  out.set("nginx.conf", main);
  return out;
}

/** nginx.conf, conf.d/*.conf, snippets/*.conf and the DH parameters, as nginx/ has them. */
export function readNginxConfig(): Map<string, string> {
  const files = new Map<string, string>();
  files.set("nginx.conf", readFileSync(join(NGINX_DIR, "nginx.conf"), "utf8"));
  files.set("ffdhe2048.pem", readFileSync(join(NGINX_DIR, "ffdhe2048.pem"), "utf8"));
  for (const dir of ["conf.d", "snippets"]) {
    for (const name of readdirSync(join(NGINX_DIR, dir))) {
      files.set(`${dir}/${name}`, readFileSync(join(NGINX_DIR, dir, name), "utf8"));
    }
  }
  return files;
}

export interface HostNginx {
  readonly prefix: string;
  readonly layout: HostLayout;
  readonly httpsUrl: string;
  readonly httpUrl: string;
  /** Access-log lines flushed so far (the config logs JSON to stdout, buffered for up to 500 ms). */
  accessLog(): string[];
  /** Rewrites the upstream file and reloads, as a deploy does. */
  switchUpstream(servers: readonly string[], backups?: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Writes the adapted configuration, a self-signed certificate and web roots into a fresh prefix. */
export async function prepareHostNginx(upstream: string, options: { rate?: string } = {}) {
  const prefix = mkdtempSync(join(tmpdir(), "nginx-host-"));
  // The master runs as root here and its workers as nobody: they must reach the prefix and web roots.
  chmodSync(prefix, 0o755);
  const htmlRoot = join(prefix, "html");
  const acmeRoot = join(prefix, "acme");
  cpSync(join(NGINX_DIR, "html"), htmlRoot, { recursive: true });
  mkdirSync(join(acmeRoot, ".well-known", "acme-challenge"), { recursive: true });
  const layout: HostLayout = {
    httpPort: await freePort(),
    httpsPort: await freePort(),
    upstream,
    htmlRoot,
    acmeRoot,
    ...(options.rate ? { rate: options.rate } : {}),
  };
  for (const [name, text] of adaptForHost(readNginxConfig(), layout)) {
    mkdirSync(dirname(join(prefix, name)), { recursive: true });
    writeFileSync(join(prefix, name), text);
  }
  cpSync("/etc/nginx/mime.types", join(prefix, "mime.types"));
  await execa(join(NGINX_DIR, "generate-self-signed-cert.sh"), [join(prefix, "certs"), "localhost"], {
    env: { CERT_OWNER: "root:root" },
  });
  return { prefix, layout };
}

function nginxArgs(prefix: string, ...extra: string[]): string[] {
  return ["-e", "stderr", "-p", `${prefix}/`, "-c", join(prefix, "nginx.conf"), ...extra];
}

/** `nginx -t` on a prepared prefix; resolves with nginx's own output, rejects with it on failure. */
export async function testConfig(prefix: string): Promise<string> {
  const result = await execa("nginx", nginxArgs(prefix, "-t"), { reject: false });
  if (result.exitCode !== 0) throw new Error(`nginx -t failed:\n${result.stderr}`);
  return result.stderr;
}

export async function startHostNginx(upstream: string, options: { rate?: string } = {}): Promise<HostNginx> {
  const { prefix, layout } = await prepareHostNginx(upstream, options);
  const accessLogFile = join(prefix, "access.log");
  let child: ResultPromise | undefined;
  try {
    // nginx's error log (stderr) stays in the result: 429s and 413s are logged there by design.
    child = execa("nginx", nginxArgs(prefix, "-g", "daemon off;"), { reject: false });
    const started = child;
    await waitUntil(
      "nginx",
      async () => {
        if (started.exitCode !== null) throw new Error(`nginx exited at start:\n${(await started).stderr}`);
        return portOpen(layout.httpsPort);
      },
      10_000,
    );
  } catch (error) {
    if (child) await stopProcess(child, "SIGQUIT", 5_000);
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }
  const running = child;
  return {
    prefix,
    layout,
    httpsUrl: `https://127.0.0.1:${layout.httpsPort}`,
    httpUrl: `http://127.0.0.1:${layout.httpPort}`,
    accessLog: () =>
      (existsSync(accessLogFile) ? readFileSync(accessLogFile, "utf8") : "")
        .split("\n")
        .filter((line) => line !== ""),
    async switchUpstream(servers, backups = []) {
      writeFileSync(join(prefix, "conf.d", "upstream.conf"), upstreamConf(servers, backups));
      await execa("nginx", nginxArgs(prefix, "-s", "reload"));
    },
    async stop() {
      await stopProcess(running, "SIGQUIT", 10_000);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
