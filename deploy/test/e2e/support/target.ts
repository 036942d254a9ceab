/**
 * A deploy target on this machine for the end-to-end tests and the deploy benchmark: the production
 * compose file and nginx config copied into a scratch directory (so deploys rewrite a copy of
 * upstream.conf), a compose project with a unique name, a real registry on 127.0.0.1 so images are
 * deployed by digest, an OpenSSH server on 127.0.0.1 that reaches this machine with a pinned host key,
 * and an environments file with two environments for all of it: `remote` over that SSH server, as a
 * real server is reached, and `local`, the same host without SSH.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { detectComposeCli } from "../../../../test/docker/compose-cli.js";
import { ComposeProject } from "../../../../test/docker/compose-project.js";
import { buildAppImage, ensureImages } from "../../../../test/docker/standin-images.js";
import { freePort } from "../../../../test/harness/network.js";
import { type Reply, request } from "../../../../test/stack/support/https-client.js";
import type { ReleaseRecord } from "../../../src/commands/ledger.js";
import { runCli } from "../../support/cli.js";
import { type EnvironmentEntry, writeEnvironmentsFile } from "../../support/environment.js";
import { startSshServer, type TestSshServer } from "../../support/ssh-server.js";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../../../..");

/**
 * The app a target deploys: how its image is built, the release variants made from it, the files they
 * COPY in, and what the environment says of it (`app:` in environments.yaml; the schema's defaults are the
 * Node sample's).
 */
export interface AppUnderTest {
  buildImage(tag: string): Promise<void>;
  /** Dockerfile lines after `FROM <the app image>`, by variant name. */
  variants: Readonly<Record<string, string>>;
  /** Files a variant may COPY in: the app image may have no shell, so a variant cannot RUN anything in it. */
  files: Readonly<Record<string, string>>;
  app?: EnvironmentEntry["app"];
}

const EXPAND_MIGRATION = "COPY e2e-expand.sql migrations/1900000000000_e2e-expand.sql";

/**
 * The Node sample (app/), and the releases the tests deploy, all from its image: v1 and v2 differ only by a
 * label (so by digest); "unhealthy" ships an expand migration (a new column) that succeeds, then serves but
 * its /readyz answers 503; "wrong-answers" is healthy by its healthcheck but answers users 500;
 * "broken-migration" is the release after it (it keeps that migration) and adds one that fails. Copied files
 * are root's and readable, like the rest of the app.
 */
export const NODE_SAMPLE: AppUnderTest = {
  buildImage: (tag) => buildAppImage(tag),
  files: {
    "e2e-expand.sql": "ALTER TABLE products ADD COLUMN e2e_note text;\n",
    "broken.sql": "ALTER TABLE no_such_table ADD COLUMN x int;\n",
  },
  variants: {
    v1: 'LABEL org.shipyard.e2e.variant="v1"',
    v2: 'LABEL org.shipyard.e2e.variant="v2"',
    unhealthy: [
      'LABEL org.shipyard.e2e.variant="unhealthy"',
      EXPAND_MIGRATION,
      `CMD ["node", "-e", "require('node:http').createServer((q, r) => r.writeHead(q.url === '/readyz' ? 503 : 200).end('{}')).listen(3000)"]`,
    ].join("\n"),
    "wrong-answers": [
      'LABEL org.shipyard.e2e.variant="wrong-answers"',
      `CMD ["node", "-e", "require('node:http').createServer((q, r) => r.writeHead(q.url === '/readyz' ? 200 : 500).end('{}')).listen(3000)"]`,
    ].join("\n"),
    // Serves well (health, /version naming its release) until 4 s after nginx's first /version (the deploy's
    // verify), then answers 500 to everything but the healthcheck's /readyz: a failure the watch window must catch.
    "fails-later": [
      'LABEL org.shipyard.e2e.variant="fails-later"',
      `CMD ["node", "-e", "let failAt = 0; require('node:http').createServer((q, r) => { if (q.url === '/readyz') return r.writeHead(200).end('{}'); if (q.url === '/version' && !failAt) failAt = Date.now() + 4000; r.writeHead(failAt && Date.now() > failAt ? 500 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', release: process.env.RELEASE_ID })); }).listen(3000)"]`,
    ].join("\n"),
    // Serves well (health, readiness, /version naming its release) for 10 s after it starts, then fails
    // everything: readiness 503, every other path 500. A release that turns bad after it is healthy.
    "turns-bad": [
      'LABEL org.shipyard.e2e.variant="turns-bad"',
      `CMD ["node", "-e", "const badAt = Date.now() + 10000; require('node:http').createServer((q, r) => { const ok = Date.now() < badAt; if (q.url === '/readyz') return r.writeHead(ok ? 200 : 503).end('{}'); r.writeHead(ok ? 200 : 500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'failing', release: process.env.RELEASE_ID })); }).listen(3000)"]`,
    ].join("\n"),
    "broken-migration": [
      'LABEL org.shipyard.e2e.variant="broken-migration"',
      EXPAND_MIGRATION,
      "COPY broken.sql migrations/1999999999999_broken.sql",
    ].join("\n"),
  },
};

export interface ShipyardRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A CLI run in progress: its progress lines as they come, and its pid for the signals a test sends. */
export interface RunningShipyard {
  readonly pid: number;
  /** Resolves once a progress line matches (or throws when the run ends first / after `timeoutMs`). */
  waitFor(line: RegExp, timeoutMs?: number): Promise<void>;
  signal(name: NodeJS.Signals): void;
  done: Promise<ShipyardRun>;
}

export interface DeployTarget {
  readonly dir: string;
  readonly project: ComposeProject;
  readonly httpsPort: number;
  readonly adminToken: string;
  /** name@sha256:… in the local registry, per variant. */
  readonly images: Record<string, string>;
  readonly stateDirectory: string;
  /** The environments file: `remote` is this target over SSH, `local` the same without SSH. */
  readonly configFile: string;
  /** `user@127.0.0.1:port`, as the CLI names the SSH target in its messages. */
  readonly sshWhere: string;
  edge(pathname: string, init?: { method?: string; body?: unknown; admin?: boolean }): Promise<Reply>;
  shipyard(args: readonly string[], options?: { env?: Record<string, string> }): Promise<ShipyardRun>;
  /** The same, returned while it runs. */
  startShipyard(args: readonly string[], options?: { env?: Record<string, string> }): RunningShipyard;
  /** Running app containers of the project, as `docker ps` names them. */
  appContainers(): Promise<string[]>;
  /** The release nginx serves, as its /version names it. */
  servedRelease(): Promise<string>;
  /** `remote`'s release ledger, oldest first (the last 50). */
  releases(): Promise<ReleaseRecord[]>;
  /** The ids of `remote`'s catalogued backups. */
  backupIds(): Promise<string[]>;
  teardown(): Promise<void>;
}

/** A registry (Debian's docker-registry) on `address`:`port`, storing under `dir`: stop it with kill. */
export async function startRegistry(dir: string, port: number, address = "127.0.0.1"): Promise<ChildProcess> {
  const config = path.join(dir, "registry.yml");
  await writeFile(
    config,
    `version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: ${path.join(dir, "registry")} } }
http: { addr: "${address}:${port}" }
`,
  );
  const registry = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await fetch(`http://${address}:${port}/v2/`).catch(() => null);
    if (answer?.ok) return registry;
    if (registry.exitCode !== null) break;
    await sleep(100);
  }
  registry.kill("SIGKILL");
  throw new Error(`docker-registry did not answer on ${address} (apt-get install -y docker-registry)`);
}

/** Builds each variant, pushes it to the registry and returns its reference by digest. */
export async function publishVariants(
  repository: string,
  base: string,
  variants: Readonly<Record<string, string>> = NODE_SAMPLE.variants,
  files: Readonly<Record<string, string>> = NODE_SAMPLE.files,
  /** The engine that builds and pushes them (default: the tests' own). */
  dockerHost?: string,
): Promise<Record<string, string>> {
  const images: Record<string, string> = {};
  const context = await mkdtemp(path.join(tmpdir(), "shipyard-variants-"));
  try {
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(context, file), text);
    for (const [name, lines] of Object.entries(variants)) {
      images[name] = await publishVariant(
        `${repository}:${name}`,
        repository,
        `FROM ${base}\n${lines}\n`,
        context,
        dockerHost,
      );
    }
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return images;
}

/** Builds one variant from `context`, pushes it and returns its reference by digest. */
async function publishVariant(
  tag: string,
  repository: string,
  dockerfile: string,
  context: string,
  dockerHost: string | undefined,
): Promise<string> {
  const docker = (args: string[], input?: string) =>
    execa("docker", args, {
      ...(dockerHost ? { env: { DOCKER_HOST: dockerHost } } : {}),
      ...(input === undefined ? {} : { input }),
    });
  await docker(["build", "--quiet", "--tag", tag, "--file", "-", context], dockerfile);
  await docker(["push", "--quiet", tag]);
  const { stdout } = await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", tag]);
  const digest = (JSON.parse(stdout) as string[]).find((d) => d.startsWith(`${repository}@`));
  if (!digest) throw new Error(`no digest for ${tag} after push: ${stdout}`);
  return digest;
}

/** The files of a server under `dir`, as a deploy target or a Swarm stack has them. */
export interface ServerLayout {
  composeDir: string;
  nginxDir: string;
  /** compose/.env (mode 0600): free ports on 127.0.0.1, and fresh secrets unless the swarm keeps them. */
  envFile: string;
  httpsPort: number;
  /** The admin token, in compose/.env or (secrets: false) for the test to give `setup`. */
  adminToken: string;
}

/**
 * The layout compose.yaml expects: compose/ beside nginx/ (it mounts ../nginx/...), the repository's
 * files copied in, a self-signed certificate for localhost and compose/.env.
 */
export async function layOutServer(
  dir: string,
  { secrets = true }: { secrets?: boolean } = {},
): Promise<ServerLayout> {
  const composeDir = path.join(dir, "compose");
  const nginxDir = path.join(dir, "nginx");
  await mkdir(composeDir);
  await cp(path.join(REPO_ROOT, "compose/compose.yaml"), path.join(composeDir, "compose.yaml"));
  await cp(path.join(REPO_ROOT, "nginx"), nginxDir, { recursive: true });
  await execa(path.join(REPO_ROOT, "nginx/generate-self-signed-cert.sh"), [
    path.join(composeDir, "certs"),
    "localhost",
  ]);
  const httpsPort = await freePort();
  const adminToken = randomBytes(24).toString("hex");
  const envFile = path.join(composeDir, ".env");
  await writeFile(
    envFile,
    [
      "BIND_ADDRESS=127.0.0.1",
      `HTTP_PORT=${await freePort()}`,
      `HTTPS_PORT=${httpsPort}`,
      ...(secrets
        ? [
            `POSTGRES_PASSWORD=${randomBytes(24).toString("hex")}`,
            `REDIS_PASSWORD=${randomBytes(24).toString("hex")}`,
            `ADMIN_TOKEN=${adminToken}`,
            `GRAFANA_ADMIN_PASSWORD=${randomBytes(24).toString("hex")}`,
          ]
        : []),
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return { composeDir, nginxDir, envFile, httpsPort, adminToken };
}

/** A target for `app` (the Node sample unless said), its variants published and its environments written. */
export async function startDeployTarget(
  prefix: string,
  subject: AppUnderTest = NODE_SAMPLE,
): Promise<DeployTarget> {
  const id = `${prefix}-${randomBytes(3).toString("hex")}`;
  const dir = await mkdtemp(path.join(tmpdir(), `${id}-`));
  let registry: ChildProcess | undefined;
  let project: ComposeProject | undefined;
  let sshd: TestSshServer | undefined;
  const images: Record<string, string> = {};
  const registryPort = await freePort();
  const repository = `127.0.0.1:${registryPort}/${id}`;

  const teardown = async () => {
    await project?.down();
    const tags = Object.keys(subject.variants).map((name) => `${repository}:${name}`);
    await execa("docker", ["image", "rm", "--force", ...tags, ...Object.values(images)], { reject: false });
    registry?.kill("SIGTERM");
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const cli = await detectComposeCli();
    await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE"]);
    const base = `shipyard-app:${prefix}`;
    await subject.buildImage(base);
    registry = await startRegistry(dir, registryPort);
    Object.assign(images, await publishVariants(repository, base, subject.variants, subject.files));

    const { composeDir, nginxDir, envFile, httpsPort, adminToken } = await layOutServer(dir);
    project = new ComposeProject(
      cli,
      { name: id, files: [path.join(composeDir, "compose.yaml")], envFile },
      dir,
    );

    // Backups are set to go off-site to a store that is down (nothing listens there): a deploy must not wait on it.
    const offsiteStorePort = await freePort();
    const stateDirectory = path.join(dir, "state");
    const config = path.join(dir, "environments.yaml");
    sshd = await startSshServer({ ownHome: true });
    const { user, port: sshPort, hostKey } = sshd.target;
    // One host, two ways in: the environments differ only in their target.
    const environment = (target: EnvironmentEntry["target"]): EnvironmentEntry => ({
      target,
      ...(subject.app ? { app: subject.app } : {}),
      compose: {
        project: id,
        directory: composeDir,
        cli: cli.version === "v1" ? "docker-compose" : "docker compose",
        nginxConfDirectory: path.join(nginxDir, "conf.d"),
      },
      stateDirectory,
      publicUrl: `https://127.0.0.1:${httpsPort}`,
      database: { urlEnv: "E2E_DATABASE_URL", dumpFrom: "compose-service" },
      // A release gets healthy in seconds on an idle machine; a busy one (CI, two cores) needs longer.
      timeouts: { commandSeconds: 300, healthSeconds: 60 },
      // Long enough for the fails-later release to fail inside it; short, as every release after the first waits it out.
      watch: { seconds: 12 },
      backup: {
        directory: path.join(dir, "backups"),
        retention: { daily: 3, weekly: 1 },
        upload: {
          url: "s3://backups/e2e/",
          endpoint: `http://127.0.0.1:${offsiteStorePort}`,
          pathStyle: true,
        },
      },
    });
    await writeEnvironmentsFile(config, {
      remote: environment({ kind: "ssh", host: "127.0.0.1", user, port: sshPort, hostKey }),
      local: environment({ kind: "local" }),
      // The same host over SSH, backing up into a directory a test can fill (a small tmpfs).
      "remote-full-disk": {
        ...environment({ kind: "ssh", host: "127.0.0.1", user, port: sshPort, hostKey }),
        backup: { directory: path.join(dir, "full-disk-backups"), retention: { daily: 3, weekly: 1 } },
      },
    });
    const clientKeyFile = sshd.clientKeyFile;
    const ca = await readFile(path.join(composeDir, "certs/fullchain.pem"));
    const composeProject = project;

    const startShipyard = (
      args: readonly string[],
      options: { env?: Record<string, string> } = {},
    ): RunningShipyard => {
      const child = runCli(args, {
        cwd: REPO_ROOT,
        env: {
          SHIPYARD_ENVIRONMENTS: config,
          SHIPYARD_WHO: "e2e@test",
          SHIPYARD_SSH_KEY_FILE: clientKeyFile,
          AWS_ACCESS_KEY_ID: "e2e",
          AWS_SECRET_ACCESS_KEY: "e2e-secret",
          // The self-signed certificate nginx serves: verification through nginx trusts it like a browser would a real one.
          NODE_EXTRA_CA_CERTS: path.join(composeDir, "certs/fullchain.pem"),
          ...options.env,
        },
      });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      let ended = false;
      const done = child.then((result) => {
        ended = true;
        return {
          exitCode: result.exitCode ?? -1,
          stdout: String(result.stdout),
          stderr: String(result.stderr),
        };
      });
      return {
        pid: child.pid as number,
        done,
        signal: (name) => {
          child.kill(name);
        },
        async waitFor(line, timeoutMs = 300_000) {
          const until = Date.now() + timeoutMs;
          while (!line.test(stderr)) {
            if (ended) throw new Error(`the run ended before ${line}:\n${stderr}`);
            if (Date.now() > until) throw new Error(`no ${line} after ${timeoutMs / 1000} s:\n${stderr}`);
            await sleep(50);
          }
        },
      };
    };

    const deployTarget: DeployTarget = {
      dir,
      project: composeProject,
      httpsPort,
      adminToken,
      images,
      stateDirectory,
      configFile: config,
      sshWhere: `${user}@127.0.0.1:${sshPort}`,
      edge(pathname, init = {}) {
        const headers: Record<string, string> = {};
        if (init.body !== undefined) headers["content-type"] = "application/json";
        if (init.admin) headers.authorization = `Bearer ${adminToken}`;
        return request(`https://127.0.0.1:${httpsPort}${pathname}`, {
          ca,
          headers,
          ...(init.method ? { method: init.method } : {}),
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        });
      },
      shipyard: (args, options = {}) => startShipyard(args, options).done,
      startShipyard,
      async servedRelease() {
        return (JSON.parse((await deployTarget.edge("/version")).text) as { release: string }).release;
      },
      async releases() {
        const { stdout } = await deployTarget.shipyard(["releases", "--env=remote", "--json", "--limit=50"]);
        return (JSON.parse(stdout) as { result: { releases: ReleaseRecord[] } }).result.releases;
      },
      async backupIds() {
        const { stdout } = await deployTarget.shipyard(["backups", "--env=remote", "--json"]);
        return (JSON.parse(stdout) as { result: { backups: { id: string }[] } }).result.backups.map(
          (b) => b.id,
        );
      },
      async appContainers() {
        const { stdout } = await execa("docker", [
          "ps",
          "--filter",
          `label=com.docker.compose.project=${id}`,
          "--filter",
          "label=com.docker.compose.service=app",
          "--format",
          "{{.Names}}",
        ]);
        return stdout.split("\n").filter(Boolean);
      },
      teardown,
    };
    return deployTarget;
  } catch (error) {
    await teardown();
    throw error;
  }
}
