/**
 * The path a team takes from CI, proven without a Dagger engine: `dagger call setup|deploy|backup|restore|
 * rollback|status|audit|logs --env=prod`, each one the module's deployer (built from the module's own
 * recipe) running the CLI exactly as the module wires it, in a container removed after each call as a CI
 * runner's work directory is. The server is fresh: an SSH server with a Docker engine of its own and
 * nothing deployed. The environment is the repository's own `prod` entry, pointed at that server.
 *
 * Journey: setup (twice: the second changes nothing), the first deploy (no data, so no backup, said so),
 * a second deploy under load (zero failed requests, its verified backup kept on the server), a backup
 * exported as `dagger call backup … export` returns it, the data wiped, a restore from that exported file,
 * a rollback, status, and the audit log and the app's logs read back.
 */

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { DeployerCommand } from "../../dagger/src/lib/deployer.js";
import {
  ENVIRONMENTS_FILE,
  type EnvironmentFacts,
  environmentFacts,
} from "../../dagger/src/lib/environments.js";
import { parseEnvironments } from "../../deploy/src/config/environments.js";
import { startLoad } from "../../deploy/test/e2e/support/load.js";
import { publishVariants, REPO_ROOT, startRegistry } from "../../deploy/test/e2e/support/target.js";
import { detectComposeCli } from "../docker/compose-cli.js";
import { buildAppImage, ensureImages } from "../docker/standin-images.js";
import { freePort } from "../harness/network.js";
import { request } from "../stack/support/https-client.js";
import { buildDeployerImage } from "./support/deployer-image.js";
import { callDeployer } from "./support/deployer-run.js";
import { type FreshServer, startFreshServer } from "./support/fresh-server.js";

const ENV = "prod";
const id = `journey-${randomBytes(3).toString("hex")}`;
const deployerTag = `shipyard-deployer:${id}`;
let scratch: string;
let registry: ChildProcess | undefined;
let server: FreshServer | undefined;
let srv: string;
let facts: EnvironmentFacts;
let images: Record<string, string>;
let httpsPort: number;
let sshKey: string;

/** The project as a user's checkout holds it: every file git has (tracked, or new and not ignored). */
async function copyProject(to: string): Promise<void> {
  const { stdout } = await execa("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: REPO_ROOT,
  });
  for (const file of stdout.split("\0").filter(Boolean)) {
    const from = path.join(REPO_ROOT, file);
    if (!existsSync(from) || !statSync(from).isFile()) continue;
    await mkdir(path.dirname(path.join(to, file)), { recursive: true });
    await copyFile(from, path.join(to, file));
  }
}

/** The repository's prod entry, pointed at the fresh server: its host and key, directories and URL. */
function environmentsFor(committed: string, sshd: FreshServer["sshd"], composeCli: string): string {
  const file = parseYaml(committed) as { environments: Record<string, Record<string, unknown>> };
  const prod = file.environments[ENV] ?? {};
  file.environments = {
    [ENV]: {
      ...prod,
      target: sshd.target,
      compose: {
        project: id,
        directory: `${srv}/compose`,
        cli: composeCli,
        nginxConfDirectory: `${srv}/nginx/conf.d`,
      },
      stateDirectory: `${srv}/state`,
      publicUrl: `https://127.0.0.1:${httpsPort}`,
    },
  };
  const text = stringifyYaml(file);
  parseEnvironments(text, "the journey's environments file"); // the CLI's own check, here first
  return text;
}

const call = (command: DeployerCommand, restoreFile?: string) =>
  callDeployer({
    image: deployerTag,
    env: ENV,
    facts,
    command,
    sshKey,
    scratch,
    ...(restoreFile ? { restoreFile } : {}),
  });

const expectOk = (answer: Awaited<ReturnType<typeof call>>) =>
  expect(answer.outcome.ok, `${answer.outcome.summary}\n${answer.stderr}`).toBe(true);

const serverFile = (relative: string) => path.join(srv, relative);
const certificate = () => readFileSync(serverFile("compose/certs/fullchain.pem"));
const adminToken = () =>
  /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(serverFile("compose/.env"), "utf8"))?.[1] ?? "";
const site = (pathname: string, init: { method?: string; body?: unknown } = {}) =>
  request(`https://127.0.0.1:${httpsPort}${pathname}`, {
    ca: certificate(),
    // Setup's certificate names the address publicUrl has.
    servername: null,
    headers: {
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...(init.method ? { authorization: `Bearer ${adminToken()}` } : {}),
    },
    ...(init.method ? { method: init.method } : {}),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
const servedRelease = async () => (JSON.parse((await site("/version")).text) as { release?: string }).release;
const ledger = () =>
  readFileSync(serverFile("state/releases.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { release: string; result: string; note?: string; who: string });

/** The backups the server's catalog lists. */
const catalogued = () =>
  (JSON.parse(readFileSync(serverFile("state/backups/catalog.json"), "utf8")) as { backups: unknown[] })
    .backups;

/** SQL in the stack's Postgres on the server, as its own user. */
async function sql(statement: string): Promise<string> {
  const container = (
    await server?.docker([
      "ps",
      "--quiet",
      "--filter",
      `label=com.docker.compose.project=${id}`,
      "--filter",
      "label=com.docker.compose.service=postgres",
    ])
  )?.trim();
  if (!container) throw new Error("no postgres container of the project runs on the server");
  return (
    (await server?.docker([
      "exec",
      container,
      "sh",
      "-c",
      'psql -v ON_ERROR_STOP=1 -At -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$1"',
      "sql",
      statement,
    ])) ?? ""
  );
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "shipyard-journey-"));
  srv = path.join(scratch, "srv");
  httpsPort = await freePort();
  const [pulled, composeCli] = await Promise.all([
    ensureImages(["POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE"]),
    detectComposeCli(),
  ]);

  // Published as `dagger call publish` would: to a registry, then deployed by digest.
  const registryPort = await freePort();
  registry = await startRegistry(scratch, registryPort);
  const base = `shipyard-app:${id}`;
  await buildAppImage(base);
  images = await publishVariants(`127.0.0.1:${registryPort}/${id}`, base, {
    v1: 'LABEL org.shipyard.journey="v1"',
    v2: 'LABEL org.shipyard.journey="v2"',
  });

  server = await startFreshServer(Object.values(pulled));
  sshKey = await readFile(server.sshd.clientKeyFile, "utf8");

  const project = path.join(scratch, "project");
  await copyProject(project);
  const committed = await readFile(path.join(project, ENVIRONMENTS_FILE), "utf8");
  const environments = environmentsFor(
    committed,
    server.sshd,
    composeCli.version === "v1" ? "docker-compose" : "docker compose",
  );
  await writeFile(path.join(project, ENVIRONMENTS_FILE), environments);
  facts = environmentFacts(environments, ENV);
  await buildDeployerImage(project, deployerTag);
});

afterAll(async () => {
  registry?.kill("SIGTERM");
  await server?.stop();
  await execa(
    "docker",
    ["image", "rm", "--force", deployerTag, `shipyard-app:${id}`, ...Object.values(images ?? {})],
    {
      reject: false,
    },
  );
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("dagger call … --env=prod from a CI runner to a fresh server (the module's deployer and wiring)", () => {
  it("the deployer is the module's: backups checked on the server, so no scratch Postgres; the key never on a command line", async () => {
    expect(facts).toMatchObject({ targetKind: "ssh", backupsOnServer: true });
    const answer = await call({ command: "status" });
    expect(answer.argv.join(" ")).not.toContain(sshKey.trim().split("\n")[1] ?? "BEGIN");
    // Nothing deployed: status answers, with no release and a site that does not answer yet.
    expectOk(answer);
    expect(answer.outcome.result).toMatchObject({ current: null, health: { ok: false } });
  });

  it("setup prepares the server in one call; a second call changes nothing and says so", async () => {
    const first = await call({ command: "setup" });
    expectOk(first);
    expect(statSync(serverFile("compose/.env")).mode & 0o777).toBe(0o600);
    expect(existsSync(serverFile("compose/certs/fullchain.pem"))).toBe(true);
    expect(existsSync(serverFile("state/backups"))).toBe(true);
    const env = readFileSync(serverFile("compose/.env"), "utf8");

    const second = await call({ command: "setup" });
    expectOk(second);
    expect(second.outcome.summary + second.stdout).toMatch(/already set up/);
    expect(second.outcome.json).not.toMatch(/"created"/);
    expect(readFileSync(serverFile("compose/.env"), "utf8")).toBe(env);
  });

  it("the first deploy takes no backup, as there is no data yet, says so, and serves through setup's certificate", async () => {
    const answer = await call({ command: "deploy", image: images.v1 ?? "", release: "v1" });
    expectOk(answer);
    expect(answer.stderr).toMatch(/backup: skipped .*first release, no data yet/);
    expect(await servedRelease()).toBe("v1");
    expect(ledger().at(-1)).toMatchObject({ release: "v1", result: "succeeded", who: "dagger" });
    expect(ledger().at(-1)?.note).toMatch(/no backup: first release, no data yet/);
  });

  let productId: number;
  it("the second deploy, under load: zero failed requests, and its verified backup stays on the server", async () => {
    const created = await site("/products", {
      method: "POST",
      body: { sku: "journey-survivor", name: "Survivor", priceCents: 1500, stock: 9 },
    });
    expect(created.status, created.text).toBe(201);
    productId = (JSON.parse(created.text) as { id: number }).id;

    const load = startLoad(() => site("/healthz"), { workers: 4, maxMs: 600_000 });
    const answer = await call({ command: "deploy", image: images.v2 ?? "", release: "v2" });
    const report = await load.stop();
    expectOk(answer);
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect(report.requests).toBeGreaterThan(20);
    expect(await servedRelease()).toBe("v2");
    // The deployer container is gone; the backup it took is on the server, catalogued there.
    expect(catalogued()).toHaveLength(1);
  });

  let exported: string;
  it("a backup is returned as a file (what `export --path` writes), and the server keeps it too", async () => {
    const answer = await call({ command: "backup" });
    expectOk(answer);
    exported = path.join(scratch, "exported-prod.dump");
    await copyFile(answer.file ?? "", exported);
    expect(readFileSync(exported).subarray(0, 5).toString()).toBe("PGDMP");
    expect(catalogued()).toHaveLength(2);
  });

  it("the data wiped, a restore from the exported file brings it back", async () => {
    await sql("TRUNCATE orders, products RESTART IDENTITY CASCADE");
    expect(await sql("SELECT count(*) FROM products WHERE sku = 'journey-survivor'")).toBe("0");

    const answer = await call({ command: "restore", confirm: "prod" }, exported);
    expectOk(answer);
    expect(await sql("SELECT count(*) FROM products WHERE sku = 'journey-survivor'")).toBe("1");
    expect((await site(`/products/${productId}`)).status).toBe(200);
  });

  it("a rollback brings v1 back, and status tells it all", async () => {
    const rollback = await call({ command: "rollback" });
    expectOk(rollback);
    expect(await servedRelease()).toBe("v1");

    const status = await call({ command: "status" });
    expectOk(status);
    expect(status.outcome.result).toMatchObject({
      current: { release: expect.stringMatching(/v1/) },
      health: { ok: true },
    });
    const backups = (status.outcome.result as { backups: unknown[] }).backups;
    // The pre-deploy backup, the exported one, the restore's safety backup and the rollback's.
    expect(backups.length).toBeGreaterThanOrEqual(3);
  });

  it("`dagger call audit` lists every operation of the journey; `dagger call logs` the app's lines, naming the release", async () => {
    const audit = await call({ command: "audit", limit: "50" });
    expectOk(audit);
    const { records } = audit.outcome.result as {
      records: { operation: string; result: string; who: string }[];
    };
    expect(records.map((r) => [r.operation, r.result, r.who])).toEqual(
      ["setup", "setup", "deploy", "deploy", "backup", "restore", "rollback"].map((operation) => [
        operation,
        "succeeded",
        "dagger",
      ]),
    );

    const logs = await call({ command: "logs", tail: "20" });
    expectOk(logs);
    const { service, stdout } = logs.outcome.result as { service: string; stdout: string[] };
    expect(service).toBe("app");
    expect(stdout.length).toBeGreaterThan(0);
    expect(stdout.some((line) => line.includes('"release":"v1"'))).toBe(true);
  });
});
