/**
 * The production compose file on a real Docker engine: built app image, stand-in (or official) images
 * for the rest, everything reached through nginx on 127.0.0.1 only.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectComposeCli } from "../docker/compose-cli.js";
import { ComposeProject } from "../docker/compose-project.js";
import { buildAppImage, ensureImages } from "../docker/standin-images.js";
import { freePort } from "../harness/network.js";
import { type Reply, request } from "./support/https-client.js";
import { NGINX_DIR, REPO_ROOT } from "./support/nginx-host.js";

const COMPOSE_FILE = join(REPO_ROOT, "compose", "compose.yaml");
const DEV_FILE = join(REPO_ROOT, "compose", "compose.dev.yaml");
const APP_IMAGE = "shipyard-app:stack-test";
const SERVICES = ["postgres", "redis", "migrate", "app", "nginx"];
const ONE_SHOTS = ["migrate"];
const LONG_RUNNING = SERVICES.filter((service) => !ONE_SHOTS.includes(service));

let project: ComposeProject | undefined;
/** The same project with the monitoring profile on: also what teardown uses, so nothing is left. */
let withMonitoring: ComposeProject | undefined;
let workDir: string | undefined;
let secrets: { postgres: string; redis: string; admin: string };
let httpsPort: number;
let httpPort: number;
let ca: Buffer;
let baseEnv: Record<string, string>;
/** The development setup (prod file + dev override), started by its own test. */
let dev: ComposeProject | undefined;

/** An env file as an operator keeps it: mode 0600, in the test's scratch directory. */
function writeEnvFile(name: string, env: Record<string, string>): string {
  if (!workDir) throw new Error("no scratch directory");
  const file = join(workDir, name);
  writeFileSync(
    file,
    `${Object.entries(env)
      .map(([key, value]) => `${key}=${value}`)
      .join("\n")}\n`,
    {
      mode: 0o600,
    },
  );
  chmodSync(file, 0o600);
  return file;
}

function stack(): ComposeProject {
  if (!project) throw new Error("the stack did not start");
  return project;
}

function edge(path: string, init: { method?: string; body?: unknown; admin?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.admin) headers.authorization = `Bearer ${secrets.admin}`;
  return request(`https://127.0.0.1:${httpsPort}${path}`, {
    ca,
    headers,
    ...(init.method ? { method: init.method } : {}),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** The fields of `docker inspect` these tests read. */
interface ContainerInfo {
  Config: { User: string; Env: string[] };
  HostConfig: {
    ReadonlyRootfs: boolean;
    CapDrop: string[] | null;
    CapAdd: string[] | null;
    SecurityOpt: string[] | null;
    Memory: number;
    NanoCpus: number;
    PidsLimit: number | null;
    RestartPolicy: { Name: string };
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]> | null;
  };
  NetworkSettings: { Networks: Record<string, unknown> };
}

async function inspect(containerId: string): Promise<ContainerInfo> {
  const { stdout } = await execa("docker", ["inspect", containerId]);
  return (JSON.parse(stdout) as ContainerInfo[])[0] as ContainerInfo;
}

async function nginxProcesses(containerId: string): Promise<{ master: string; workers: string[] }> {
  const { stdout } = await execa("docker", ["top", containerId, "-eo", "pid,args"]);
  const rows = stdout
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/));
  const pidsOf = (role: string) =>
    rows.filter((row) => row.join(" ").includes(`nginx: ${role}`)).map((row) => row[0] ?? "");
  return { master: pidsOf("master process")[0] ?? "", workers: pidsOf("worker process") };
}

beforeAll(async () => {
  try {
    const cli = await detectComposeCli();
    await ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE", "PROMETHEUS_IMAGE"]);
    await buildAppImage(APP_IMAGE);

    workDir = mkdtempSync(join(tmpdir(), "compose-stack-"));
    const certDir = join(workDir, "certs");
    // Owned by uid 101: the nginx user of the official image (and of the stand-in).
    await execa(join(NGINX_DIR, "generate-self-signed-cert.sh"), [certDir, "localhost"]);
    ca = readFileSync(join(certDir, "fullchain.pem"));
    secrets = {
      postgres: randomBytes(24).toString("hex"),
      redis: randomBytes(24).toString("hex"),
      admin: randomBytes(24).toString("hex"),
    };
    httpPort = await freePort();
    httpsPort = await freePort();
    baseEnv = {
      APP_IMAGE,
      BIND_ADDRESS: "127.0.0.1",
      HTTP_PORT: String(httpPort),
      HTTPS_PORT: String(httpsPort),
      TLS_CERT_DIR: certDir,
      POSTGRES_PASSWORD: secrets.postgres,
      REDIS_PASSWORD: secrets.redis,
      ADMIN_TOKEN: secrets.admin,
      GRAFANA_ADMIN_PASSWORD: randomBytes(24).toString("hex"),
      RELEASE_ID: "stack-test",
    };
    const envFile = writeEnvFile("stack.env", baseEnv);
    const spec = { name: `shipyard-stack-${randomBytes(3).toString("hex")}`, files: [COMPOSE_FILE], envFile };
    project = new ComposeProject(cli, spec, REPO_ROOT);
    withMonitoring = new ComposeProject(cli, { ...spec, profiles: ["monitoring"] }, REPO_ROOT);
    await project.run(["up", "--detach"]);
    await project.waitReady(SERVICES, ONE_SHOTS, 180_000);
  } catch (error) {
    await teardown();
    throw error;
  }
});

async function teardown(): Promise<void> {
  await dev?.down();
  await withMonitoring?.down();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

afterAll(teardown);

describe("compose stack on a real engine", () => {
  it("brings every service up healthy, each with a healthcheck", async () => {
    const states = await stack().states(LONG_RUNNING);
    expect(states.map((s) => [s.service, s.health])).toEqual(
      LONG_RUNNING.map((service) => [service, "healthy"]),
    );
  });

  it("runs every container hardened: non-root, read-only, no capabilities, no new privileges, limited, restarted", async () => {
    for (const service of SERVICES) {
      const info = await inspect(await stack().containerId(service));
      const label = `service ${service}`;
      expect(info.Config.User, label).not.toMatch(/^(|root|0)(:.*)?$/);
      expect(info.HostConfig.ReadonlyRootfs, label).toBe(true);
      expect(info.HostConfig.CapDrop, label).toEqual(["ALL"]);
      expect(info.HostConfig.CapAdd ?? [], label).toEqual([]);
      expect(info.HostConfig.SecurityOpt, label).toContain("no-new-privileges:true");
      expect(info.HostConfig.Memory, label).toBeGreaterThan(0);
      expect(info.HostConfig.NanoCpus, label).toBeGreaterThan(0);
      expect(info.HostConfig.PidsLimit, label).toBeGreaterThan(0);
      expect(info.HostConfig.RestartPolicy.Name, label).toBe(
        ONE_SHOTS.includes(service) ? "no" : "unless-stopped",
      );
    }
  });

  it("serves the app through nginx on 127.0.0.1, over TLS, with HTTP redirected", async () => {
    const health = await edge("/healthz");
    expect(health.status).toBe(200);
    expect(health.headers["strict-transport-security"]).toBe("max-age=63072000");
    const version = await edge("/version");
    expect(JSON.parse(version.text)).toMatchObject({ release: "stack-test" });
    const redirect = await request(`http://127.0.0.1:${httpPort}/products`);
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe("https://127.0.0.1/products");
  });

  it("publishes only nginx, and keeps postgres and redis on internal networks", async () => {
    for (const service of SERVICES) {
      const info = await inspect(await stack().containerId(service));
      const bindings = Object.values(info.HostConfig.PortBindings ?? {}).flat();
      if (service === "nginx") {
        expect(bindings.map((b) => b.HostIp)).toEqual(["127.0.0.1", "127.0.0.1"]);
      } else {
        expect(bindings, `service ${service}`).toEqual([]);
      }
    }
    for (const service of ["postgres", "redis"]) {
      const info = await inspect(await stack().containerId(service));
      for (const network of Object.keys(info.NetworkSettings.Networks)) {
        const { stdout } = await execa("docker", [
          "network",
          "inspect",
          "--format",
          "{{.Internal}}",
          network,
        ]);
        expect(stdout.trim(), `${service} on ${network}`).toBe("true");
      }
    }
  });

  it("requires the Redis password and never shows a secret in a process's arguments", async () => {
    const anonymous = await stack().run(["exec", "-T", "-e", "REDISCLI_AUTH=", "redis", "redis-cli", "ping"]);
    expect(anonymous.stdout).toMatch(/NOAUTH/);
    const { stdout: processes } = await execa("ps", ["-eo", "args"]);
    for (const secret of Object.values(secrets)) expect(processes).not.toContain(secret);
  });

  it("gives the migrate container the database URL only: its environment outlives it in `docker inspect`", async () => {
    const info = await inspect(await stack().containerId("migrate"));
    const names = info.Config.Env.map((variable) => variable.slice(0, variable.indexOf("=")));
    expect(names).toContain("DATABASE_URL");
    expect(names).not.toContain("ADMIN_TOKEN");
    expect(names).not.toContain("REDIS_URL");
    const environment = info.Config.Env.join("\n");
    expect(environment).not.toContain(secrets.admin);
    expect(environment).not.toContain(secrets.redis);
  });

  it("ships an app image with production dependencies only, migrations, no secrets, and a working HEALTHCHECK", async () => {
    const { stdout } = await execa("docker", ["image", "inspect", APP_IMAGE]);
    const [image] = JSON.parse(stdout) as {
      Config: { User: string; Env: string[]; Healthcheck?: { Test: string[] } };
    }[];
    expect(image?.Config.User).toMatch(/^[1-9]\d*(:\d+)?$/);
    for (const variable of image?.Config.Env ?? []) {
      expect(variable).not.toMatch(/PASSWORD|TOKEN|SECRET|DATABASE_URL|REDIS_URL/);
    }
    // With node, as the image has no shell.
    const listing = `
      const { readdirSync } = require("node:fs");
      const secretFiles = readdirSync("/srv", { recursive: true })
        .filter((file) => /(^|\\/)(\\.env[^/]*|[^/]*\\.pem|[^/]*\\.key|\\.git)$/.test(file));
      console.log([readdirSync("/srv/node_modules").join("\\n"), readdirSync("/srv/app/migrations").join("\\n"), secretFiles.join("\\n")].join("\\n---\\n"));
    `;
    const contents = await execa("docker", [
      "run",
      "--rm",
      "--network",
      "none",
      APP_IMAGE,
      "node",
      "-e",
      listing,
    ]);
    const [modules = "", migrations = "", secretFiles = ""] = contents.stdout.split("---\n");
    expect(modules.split("\n")).toEqual(expect.arrayContaining(["fastify", "pg", "ioredis"]));
    for (const devOnly of ["vitest", "typescript", "@biomejs", "tsx"])
      expect(modules.split("\n")).not.toContain(devOnly);
    expect(migrations).toMatch(/\.sql/);
    expect(secretFiles.trim()).toBe("");

    // The image's own HEALTHCHECK command (compose sets only its timing; a release runs it too), in the live container.
    const healthcheck = image?.Config.Healthcheck?.Test ?? [];
    expect(healthcheck[0]).toBe("CMD");
    const probe = await execa("docker", ["exec", await stack().containerId("app"), ...healthcheck.slice(1)], {
      reject: false,
    });
    expect(probe.exitCode).toBe(0);
  });

  it("checks and reloads nginx in place as deploys do (nginx -t, SIGHUP) without failing a request", async () => {
    const check = await stack().run([
      "exec",
      "-T",
      "nginx",
      "nginx",
      "-p",
      "/tmp/",
      "-c",
      "/etc/nginx/nginx.conf",
      "-t",
    ]);
    expect(check.all).toMatch(/test is successful/);
    const nginxId = await stack().containerId("nginx");
    const startedAt = (await execa("docker", ["inspect", "--format", "{{.State.StartedAt}}", nginxId]))
      .stdout;
    const before = await nginxProcesses(nginxId);
    expect(before.workers.length).toBeGreaterThan(0);

    const statuses: number[] = [];
    let reloading = true;
    const traffic = (async () => {
      for (let i = 0; i < 500 && reloading; i++) statuses.push((await edge("/healthz")).status);
    })();
    await stack().run(["kill", "-s", "HUP", "nginx"]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    reloading = false;
    await traffic;

    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect((await execa("docker", ["inspect", "--format", "{{.State.StartedAt}}", nginxId])).stdout).toBe(
      startedAt,
    );
    // A reload replaces the worker processes and keeps the master.
    const after = await nginxProcesses(nginxId);
    expect(after.master).toBe(before.master);
    expect(after.workers.some((pid) => before.workers.includes(pid))).toBe(false);
  });

  it("keeps Postgres and Redis data across down and up", async () => {
    const sku = `persist-${randomBytes(4).toString("hex")}`;
    const created = await edge("/products", {
      method: "POST",
      admin: true,
      body: { sku, name: "Survivor", priceCents: 500, stock: 5 },
    });
    expect(created.status, created.text).toBe(201);
    const { id } = JSON.parse(created.text) as { id: number };
    const order = await edge("/orders", { method: "POST", body: { productId: id, quantity: 2 } });
    expect(order.status, order.text).toBe(201);
    await stack().run(["exec", "-T", "redis", "redis-cli", "set", "stack:marker", sku]);

    await stack().run(["down", "--timeout", "20"]);
    await stack().run(["up", "--detach"]);
    await stack().waitReady(SERVICES, ONE_SHOTS, 180_000);

    const read = await edge(`/products/${id}`);
    expect(read.status).toBe(200);
    expect(JSON.parse(read.text)).toMatchObject({ id, sku, stock: 3 });
    const marker = await stack().run(["exec", "-T", "redis", "redis-cli", "get", "stack:marker"]);
    expect(marker.stdout.trim()).toBe(sku);
  });

  it("scrapes the app with Prometheus (monitoring profile), and the dashboard queries metrics the app exports", async () => {
    const monitoring = withMonitoring as ComposeProject;
    await monitoring.run(["up", "--detach", "prometheus"]);
    await monitoring.waitReady(["prometheus"], [], 120_000);
    const query = async (path: string): Promise<unknown> => {
      const { stdout } = await monitoring.run([
        "exec",
        "-T",
        "prometheus",
        "wget",
        "-q",
        "-O",
        "-",
        `http://127.0.0.1:9090${path}`,
      ]);
      return JSON.parse(stdout);
    };
    type Vector = { data: { result: { value: [number, string] }[] } };
    let up: Vector | undefined;
    for (let attempt = 0; attempt < 45; attempt++) {
      up = (await query("/api/v1/query?query=up%7Bjob%3D%22app%22%7D")) as Vector;
      if (up.data.result[0]?.value[1] === "1") break;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    expect(up?.data.result[0]?.value[1]).toBe("1");

    // Metric families the app declares (a labelled counter has no sample before its first increment).
    const exposition = await monitoring.run([
      "exec",
      "-T",
      "app",
      "node",
      "-e",
      "fetch('http://127.0.0.1:3000/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))",
    ]);
    const families = new Set([...exposition.stdout.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, "compose", "monitoring", "grafana", "dashboards", "app.json"), "utf8"),
    ) as { panels: { targets: { expr: string }[] }[] };
    const used = new Set(
      dashboard.panels.flatMap((panel) =>
        panel.targets.flatMap(
          (target) =>
            target.expr.match(/\b[a-z][a-z0-9_]*_(?:total|bucket|bytes|seconds|idle|waiting)\b/g) ?? [],
        ),
      ),
    );
    expect(used.size).toBeGreaterThan(5);
    for (const metric of used) expect(families, metric).toContain(metric.replace(/_bucket$/, ""));
  });

  it("runs the development setup: app built from this checkout, Postgres and Redis on 127.0.0.1", async () => {
    await (withMonitoring as ComposeProject).run(["down", "--timeout", "20"]);
    const [postgresPort, redisPort, devHttps] = [await freePort(), await freePort(), await freePort()];
    const envFile = writeEnvFile("dev.env", {
      ...baseEnv,
      APP_IMAGE: "shipyard-app:stack-test-dev",
      HTTP_PORT: String(await freePort()),
      HTTPS_PORT: String(devHttps),
      DEV_POSTGRES_PORT: String(postgresPort),
      DEV_REDIS_PORT: String(redisPort),
      RELEASE_ID: "dev",
    });
    const cli = stack().cli;
    dev = new ComposeProject(
      cli,
      { name: `${stack().spec.name}-dev`, files: [COMPOSE_FILE, DEV_FILE], envFile },
      REPO_ROOT,
    );
    await dev.run(["up", "--detach", "--build"]);
    await dev.waitReady(SERVICES, ONE_SHOTS, 180_000);

    const version = await request(`https://127.0.0.1:${devHttps}/version`, { ca });
    expect(JSON.parse(version.text)).toMatchObject({ release: "dev" });
    const client = new pg.Client({
      connectionString: `postgres://app:${secrets.postgres}@127.0.0.1:${postgresPort}/app`,
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ products: string }>("SELECT count(*) AS products FROM products");
      expect(Number(rows[0]?.products)).toBeGreaterThanOrEqual(0);
    } finally {
      await client.end();
    }
    const redisPing = await execa("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort), "ping"], {
      env: { REDISCLI_AUTH: secrets.redis },
    });
    expect(redisPing.stdout.trim()).toBe("PONG");
  });
});
