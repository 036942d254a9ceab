/**
 * The FastAPI example (examples/fastapi) through the same CLI, SSH target, compose stack and nginx as the
 * Node sample's e2e: only the environment's `app:` says it is another app (its port, its migrate command);
 * readiness is its image's own HEALTHCHECK, in Python. It deploys, migrates with Alembic, backs up with a
 * restore that proves the backup, fails a release and rolls back. The tests run in order; each starts from
 * the state the previous one left.
 */
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFastapiExampleImage } from "../../../test/docker/standin-images.js";
import { startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { startLoad } from "./support/load.js";
import {
  type AppUnderTest,
  type DeployTarget,
  type ShipyardRun,
  startDeployTarget,
} from "./support/target.js";

/** An Alembic revision as a release ships it: a file in migrations/versions. */
const revision = (id: string, parent: string, sql: string) =>
  [
    `"""e2e: ${sql}"""`,
    "from alembic import op",
    "",
    `revision = "${id}"`,
    `down_revision = "${parent}"`,
    "branch_labels = None",
    "depends_on = None",
    "",
    "",
    "def upgrade() -> None:",
    `    op.execute(${JSON.stringify(sql)})`,
    "",
  ].join("\n");

const EXPAND = "COPY 0002_e2e_note.py migrations/versions/0002_e2e_note.py";

/**
 * v1 is the example as built; v2 adds an expand migration (a nullable column), which v1 must stay ready
 * on; "broken-migration" is the release after v2 and adds a revision that fails.
 */
const FASTAPI_EXAMPLE: AppUnderTest = {
  buildImage: buildFastapiExampleImage,
  app: { port: 8000, migrate: ["python3", "-m", "catalog", "migrate"] },
  files: {
    "0002_e2e_note.py": revision("0002", "0001", "ALTER TABLE products ADD COLUMN e2e_note text"),
    "0003_broken.py": revision("0003", "0002", "ALTER TABLE no_such_table ADD COLUMN x int"),
  },
  variants: {
    v1: 'LABEL org.shipyard.e2e.variant="fastapi-v1"',
    v2: ['LABEL org.shipyard.e2e.variant="fastapi-v2"', EXPAND].join("\n"),
    "broken-migration": [
      'LABEL org.shipyard.e2e.variant="fastapi-broken-migration"',
      EXPAND,
      "COPY 0003_broken.py migrations/versions/0003_broken.py",
    ].join("\n"),
  },
};

let target: DeployTarget;
let productId: number;

const image = (variant: string) => target.images[variant] ?? "?";
const deploy = (variant: string, release: string, env: Record<string, string> = {}) =>
  target.shipyard(["deploy", "--env=remote", `--image=${image(variant)}`, `--release=${release}`], { env });
const stock = async () =>
  (JSON.parse((await target.edge(`/products/${productId}`)).text) as { stock: number }).stock;
/** One query in the stack's own Postgres, over its socket, as the operator on the server would ask. */
async function sql(query: string): Promise<string> {
  const postgres = await target.project.containerId("postgres");
  const { stdout } = await execa("docker", [
    "exec",
    postgres,
    "psql",
    "-U",
    "app",
    "-d",
    "app",
    "-tAc",
    query,
  ]);
  return stdout.trim();
}
/** A verified backup needs a scratch server to restore into; each run gets its own. */
async function withScratch(run: (env: Record<string, string>) => Promise<ShipyardRun>): Promise<ShipyardRun> {
  const scratch = await startPostgres();
  try {
    return await run({ SHIPYARD_SCRATCH_DATABASE_URL: scratch.adminUrl });
  } finally {
    await scratch.stop();
  }
}

beforeAll(async () => {
  target = await startDeployTarget("shipyard-e2e-fastapi", FASTAPI_EXAMPLE);
});

afterAll(async () => {
  await target?.teardown();
});

describe("the FastAPI example deployed, backed up and rolled back like the Node sample", () => {
  it("first deploy: Alembic migrates, the app serves on its own port through nginx, orders take stock", async () => {
    const run = await deploy("v1", "v1");
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✓ backup: skipped \([\d.]+ s\) first release, no data yet\n/);
    expect(await target.servedRelease()).toBe("v1");
    expect(await sql("SELECT version_num FROM alembic_version")).toBe("0001");

    const created = await target.edge("/products", {
      method: "POST",
      admin: true,
      body: { sku: "py-survivor", name: "Survivor", priceCents: 1200, stock: 7 },
    });
    expect(created.status, created.text).toBe(201);
    productId = (JSON.parse(created.text) as { id: number }).id;
    const order = await target.edge("/orders", { method: "POST", body: { productId, quantity: 2 } });
    expect(order.status, order.text).toBe(201);
    expect(await stock()).toBe(5);
    expect((await target.releases()).at(-1)).toMatchObject({ release: "v1", result: "succeeded" });
  });

  it("upgrades to v2 and its Alembic migration after a verified backup, under load with zero failed requests", async () => {
    const load = startLoad(() => target.edge("/healthz"), { workers: 4, maxMs: 180_000 });
    const run = await withScratch((env) => deploy("v2", "v2", env));
    const report = await load.stop();

    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✓ backup \([\d.]+ s\) \S+\n[\s\S]*✓ migrate/);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(await target.servedRelease()).toBe("v2");
    expect(await sql("SELECT version_num FROM alembic_version")).toBe("0002");
    expect(await sql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'e2e_note'")).toBe(
      "1",
    );
    expect(await stock()).toBe(5);
    expect(await target.appContainers()).toHaveLength(1);
  });

  it("backs up on demand with its off-site store down: verified by a restore, kept and listed, exit 1 naming the retry", async () => {
    const before = await target.backupIds();
    const run = await withScratch((env) => target.shipyard(["backup", "--env=remote"], { env }));
    expect(run.stderr).toMatch(
      /✓ restore into scratch [\s\S]*✓ verify row counts \([\d.]+ s\) 3 tables, \d+ rows match\n/,
    );
    const after = await target.backupIds();
    expect(after).toHaveLength(before.length + 1);
    const id = after.find((b) => !before.includes(b)) ?? "?";
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(
      `backup ${id} is verified and kept here, but its off-site copy failed: upload of ${id}`,
    );
    expect(run.stderr).toContain(`retry with: shipyard upload --env=remote --backup=${id}`);
  });

  it("rolls back a release whose Alembic migration fails: v2 keeps serving, with its data, in one container", async () => {
    const run = await target.shipyard([
      "deploy",
      "--env=remote",
      `--image=${image("broken-migration")}`,
      "--release=v3",
      "--no-backup",
    ]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/deploy of v3 failed at "migrate"/);
    expect(run.stderr).toMatch(/no_such_table/);
    expect(await target.servedRelease()).toBe("v2");
    expect(await sql("SELECT version_num FROM alembic_version")).toBe("0002");
    expect(await stock()).toBe(5);
    expect(await target.appContainers()).toHaveLength(1);
    expect((await target.releases()).at(-1)).toMatchObject({ release: "v3", result: "rolled-back" });
  });

  it("rollback brings v1 back after a verified backup: ready on the schema v2 left, the data intact", async () => {
    const run = await withScratch((env) => target.shipyard(["rollback", "--env=remote"], { env }));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✓ backup \([\d.]+ s\) \S+\n/);
    expect(await target.servedRelease()).toBe("v1");
    expect(await sql("SELECT version_num FROM alembic_version")).toBe("0002");
    expect(await stock()).toBe(5);
    const order = await target.edge("/orders", { method: "POST", body: { productId, quantity: 5 } });
    expect(order.status, order.text).toBe(201);
    expect(await stock()).toBe(0);
    expect((await target.releases()).at(-1)).toMatchObject({
      release: "v1",
      result: "succeeded",
      note: "rollback from v2",
    });
  });

  it("the server's audit log holds one record per operation, in order, by who ran it", async () => {
    const { stdout, exitCode } = await target.shipyard(["audit", "--env=remote", "--json"]);
    expect(exitCode).toBe(0);
    const { records } = (JSON.parse(stdout) as { result: { records: Record<string, unknown>[] } }).result;
    expect(records.map((r) => [r.operation, r.result, r.who])).toEqual([
      ["deploy", "succeeded", "e2e@test"],
      ["deploy", "succeeded", "e2e@test"],
      // Its off-site copy failed, so the operation did, though the backup is kept and listed (above).
      ["backup", "failed", "e2e@test"],
      ["deploy", "failed", "e2e@test"],
      ["rollback", "succeeded", "e2e@test"],
    ]);
    expect(records[2]?.summary).toMatch(/verified and kept here, but its off-site copy failed/);
  });
});
