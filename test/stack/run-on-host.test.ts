/**
 * The `local` environment driven from a container, as the Dagger functions drive it: the launcher argv
 * that deployerWiring builds, run for real against this machine's Docker engine. A deployer image (the
 * repository with its node_modules and the Postgres client, at /src as in Dagger) is saved untagged, as
 * Dagger's tarball is; run-on-host.sh loads it and runs the CLI beside the host's services. The only
 * difference from Dagger: the launcher is this process instead of a container holding the socket, so the
 * script and the tarball are at their host paths.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeployerCommand, deployerWiring, RESTORE_FILE_PATH } from "../../dagger/src/lib/deployer.js";
import {
  DEPLOYER_TARBALL_PATH,
  HOST_DEPLOYER_TAG,
  hostFileArgv,
  RUN_ON_HOST_SCRIPT,
} from "../../dagger/src/lib/host-run.js";
import { environmentsYaml, localEntry } from "../../deploy/test/support/environment.js";
import { ensureImages } from "../docker/standin-images.js";
import { type EphemeralPostgres, startPostgres } from "../harness/ephemeral-postgres.js";
import { query } from "../harness/sql.js";
import { REPO_ROOT } from "./support/nginx-host.js";

let server: EphemeralPostgres;
let site: http.Server;
let work: string;
/** The checkout's path on the host, as --host-path gives it. */
let hostPath: string;
let tarball: string;
let databaseUrl: string;
const imageTag = `shipyard-test/deployer:${randomBytes(3).toString("hex")}`;

const sql = (text: string) => query(databaseUrl, text);

/** What Dagger's deployer image holds: the source with its dependencies installed, and the Postgres client. */
async function buildDeployerImage(environments: string): Promise<void> {
  const nodeImage = (await ensureImages(["NODE_IMAGE"])).NODE_IMAGE;
  const context = join(work, "context");
  mkdirSync(context);
  writeFileSync(
    join(context, "Dockerfile"),
    `FROM ${nodeImage}
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
COPY package.json tsconfig.json /src/
COPY node_modules /src/node_modules
COPY deploy /src/deploy
# The user's own environments file, as the source handed to Dagger carries it.
COPY environments.yaml /src/deploy/environments.yaml
`,
  );
  writeFileSync(join(context, "environments.yaml"), environments);
  // The context as one tar stream from two directories: the Dockerfile, and the repository's files.
  // Streamed, not buffered: node_modules alone is hundreds of MB.
  await execa(
    "tar",
    [
      "-c",
      "-C",
      context,
      "Dockerfile",
      "environments.yaml",
      "-C",
      REPO_ROOT,
      "package.json",
      "tsconfig.json",
      "node_modules",
      "deploy",
    ],
    { buffer: false },
  ).pipe("docker", ["build", "--quiet", "--tag", imageTag, "-"]);
  // Untagged, as Dagger's asTarball is: it loads as "Loaded image ID: sha256:…".
  const { stdout: id } = await execa("docker", ["image", "inspect", "--format", "{{.Id}}", imageTag]);
  await execa("docker", ["save", "--output", tarball, id.trim()]);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "shipyard-run-on-host-"));
  hostPath = join(work, "checkout");
  tarball = join(work, "deployer.tar");
  mkdirSync(hostPath);
  site = http.createServer((req, res) => res.writeHead(req.url === "/healthz" ? 200 : 404).end());
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  const sitePort = (site.address() as { port: number }).port;
  server = await startPostgres();
  databaseUrl = await server.createDatabase("shop");
  await sql(
    `CREATE TABLE products (id serial PRIMARY KEY, name text);
     INSERT INTO products (name) SELECT 'p' || i FROM generate_series(1, 120) i;`,
  );
  // Relative paths, as the committed local environment has them: they must land in the host's checkout.
  await buildDeployerImage(
    environmentsYaml({
      local: localEntry(".shipyard", {
        stateDirectory: ".shipyard/local",
        publicUrl: `http://127.0.0.1:${sitePort}`,
        backup: { directory: ".shipyard/backups/local", retention: { daily: 3, weekly: 1 } },
      }),
    }),
  );
}, 600_000);

afterAll(async () => {
  await new Promise((resolve) => site?.close(resolve));
  await execa("docker", ["image", "rm", "--force", imageTag, HOST_DEPLOYER_TAG], { reject: false });
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The launcher's argv from the wiring, with the Dagger container's paths swapped for this host's. */
function launcherArgv(command: DeployerCommand, restoreFrom?: string) {
  const wiring = deployerWiring({
    env: "local",
    environment: { targetKind: "local", urlEnv: "DATABASE_URL" },
    hasSshKey: false,
    hasDockerSocket: true,
    // The host's engine is the run's test engine, whose socket is not at the default path.
    dockerSocketPath: engineSocket(),
    hasDatabaseUrl: true,
    hostPath,
    runId: "t1",
    ...command,
  });
  expect(wiring.onHost).toEqual({ hostPath });
  expect(wiring.argv).toContain(`--volume=${engineSocket()}:/var/run/docker.sock`);
  return wiring.argv.map((arg) => {
    if (arg === `/src/${RUN_ON_HOST_SCRIPT}`) return join(REPO_ROOT, RUN_ON_HOST_SCRIPT);
    if (arg === DEPLOYER_TARBALL_PATH) return tarball;
    if (arg === RESTORE_FILE_PATH && restoreFrom) return restoreFrom;
    return arg;
  });
}

function engineSocket(): string {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  if (!host.startsWith("unix://")) throw new Error(`the Docker tests need a unix socket engine, not ${host}`);
  return host.slice("unix://".length);
}

function launch(argv: string[]) {
  const [file, ...args] = argv;
  // The launcher holds the database URL as a secret variable; docker run hands it on by name.
  return execa(file ?? "", args, { reject: false, env: { DATABASE_URL: databaseUrl } });
}

describe("the local environment run on the host's engine from a container", () => {
  it("status sees the host's 127.0.0.1 and the ledger in the host's checkout", async () => {
    mkdirSync(join(hostPath, ".shipyard/local"), { recursive: true });
    const record = {
      release: "r1",
      env: "local",
      who: "dev",
      at: "2026-11-23T10:00:00.000Z",
      image: "shop",
      digest: `sha256:${"c".repeat(64)}`,
      result: "succeeded",
    };
    writeFileSync(join(hostPath, ".shipyard/local/releases.jsonl"), `${JSON.stringify(record)}\n`);
    const run = await launch(launcherArgv({ command: "status" }));
    expect(run.exitCode, run.stderr).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(answer.result.health).toMatchObject({ ok: true, status: 200 });
    expect(answer.result.current).toMatchObject({ release: "r1" });
  }, 120_000);

  it("backup writes a verified backup into the host's checkout, and the function reads it back byte for byte", async () => {
    const argv = launcherArgv({ command: "backup" });
    expect(argv.join(" ")).not.toContain(new URL(databaseUrl).password);
    const run = await launch(argv);
    expect(run.exitCode, run.stderr).toBe(0);
    const { result } = JSON.parse(run.stdout);
    expect(result.path.startsWith(`${hostPath}/.shipyard/backups/local/`)).toBe(true);
    expect(existsSync(result.path)).toBe(true);
    const catalog = JSON.parse(readFileSync(join(hostPath, ".shipyard/backups/local/catalog.json"), "utf8"));
    expect(catalog.backups.map((b: { id: string }) => b.id)).toEqual([result.backup.id]);

    const [file, ...args] = hostFileArgv(hostPath, result.path);
    const read = await execa(file ?? "", args, { encoding: "buffer" });
    expect(createHash("sha256").update(read.stdout).digest("hex")).toBe(result.backup.sha256);
  }, 180_000);

  it("restore streams the given file onto the host, restores it there, and removes the staged copy", async () => {
    const catalog = JSON.parse(readFileSync(join(hostPath, ".shipyard/backups/local/catalog.json"), "utf8"));
    const dump = join(hostPath, ".shipyard/backups/local", catalog.backups[0].file);
    const outside = join(work, "given.dump"); // the File handed to the function, outside the checkout
    writeFileSync(outside, readFileSync(dump));
    await sql("DELETE FROM products WHERE id > 20");

    const run = await launch(launcherArgv({ command: "restore" }, outside));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).result.restored.database).toBe("shop");
    expect((await sql("SELECT count(*)::int AS n FROM products")).rows[0]?.n).toBe(120);
    expect(existsSync(join(hostPath, ".shipyard/incoming/restore-t1.dump"))).toBe(false);
  }, 180_000);
});
