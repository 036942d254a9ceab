/**
 * The FastAPI example (examples/fastapi) runs its own pytest suite against this run's Postgres and Redis, as
 * its Dockerfile's `test` stage does: a database of its own, the example's Alembic migrations applied by its
 * CLI first, then pytest, whose JUnit report says how many tests ran and passed. Python and its packages come
 * from Debian (ci/install-host-deps.sh installs them for /usr/bin/python3).
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { summarizeJUnit } from "../harness/junit.js";
import { makeScratchDir } from "../harness/scratch-dir.js";
import { query } from "../harness/sql.js";

const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/fastapi", import.meta.url));
// Debian's interpreter, the one its python3-* packages are for: a `python3` earlier on PATH (pyenv, a venv)
// would not have them.
const PYTHON = process.env.FASTAPI_EXAMPLE_PYTHON ?? "/usr/bin/python3";
const DATABASE = `fastapi_example_${process.pid}`;

let scratch: string;
let databaseUrl: string;

// Nothing left in the checkout: no bytecode beside the sources, no pytest cache.
const pythonEnv = (env: Record<string, string>) => ({ PYTHONDONTWRITEBYTECODE: "1", ...env });

beforeAll(async () => {
  scratch = await makeScratchDir("fastapi");
  const server = new URL(inject("databaseUrl"));
  await query(server.href, `CREATE DATABASE ${pg.escapeIdentifier(DATABASE)}`);
  server.pathname = `/${DATABASE}`;
  databaseUrl = server.href;
});

afterAll(async () => {
  const drop = `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(DATABASE)} WITH (FORCE)`;
  if (databaseUrl) await query(inject("databaseUrl"), drop);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it("migrates a fresh database with the example's CLI, then passes its pytest suite", async () => {
  const migrate = await execa(PYTHON, ["-m", "catalog", "migrate"], {
    cwd: EXAMPLE_DIR,
    env: pythonEnv({ DATABASE_URL: databaseUrl }),
    all: true,
    reject: false,
  });
  expect(migrate.exitCode, migrate.all).toBe(0);
  expect(migrate.stdout).toContain('"applied": ["0001"]');

  const version = await execa(PYTHON, ["-m", "catalog", "migration-version"], {
    cwd: EXAMPLE_DIR,
    env: pythonEnv({ DATABASE_URL: databaseUrl }),
    reject: false,
  });
  expect(version.exitCode).toBe(0);
  expect(version.stdout).toBe("current: 0001\nexpected: 0001");

  const report = path.join(scratch, "junit.xml");
  const pytest = await execa(PYTHON, ["-m", "pytest", "-p", "no:cacheprovider", `--junitxml=${report}`], {
    cwd: EXAMPLE_DIR,
    env: pythonEnv({ DATABASE_URL: databaseUrl, REDIS_URL: inject("redisUrl") }),
    all: true,
    reject: false,
    timeout: 300_000,
  });
  expect(pytest.exitCode, pytest.all).toBe(0);
  const summary = summarizeJUnit(await readFile(report, "utf8"));
  expect(summary.tests, pytest.all).toBeGreaterThanOrEqual(25);
  expect(summary).toMatchObject({ failures: 0, errors: 0, skipped: 0 });
}, 360_000);
