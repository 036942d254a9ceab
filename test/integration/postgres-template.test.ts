/**
 * The template cluster the throw-away Postgres servers copy (test/harness/postgres-cluster.ts): built once,
 * safely when two runs build it at the same time, and never shared by two servers.
 */
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type EphemeralPostgres, startPostgres } from "../harness/ephemeral-postgres.js";

let cache: string;
const started: EphemeralPostgres[] = [];

beforeEach(async () => {
  cache = await mkdtemp(path.join(os.tmpdir(), "shipyard-template-cache-"));
  await chmod(cache, 0o755);
  process.env.SHIPYARD_TEST_CACHE = cache;
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
  delete process.env.SHIPYARD_TEST_CACHE;
  await rm(cache, { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe("the template cluster", () => {
  it("is built once when two starts need it at the same time, and each server gets its own copy", async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    started.push(a, b);
    // One template, and nothing half-built left beside it.
    expect(await readdir(cache)).toEqual([expect.stringMatching(/^postgres-\d+(\.\d+)*-[0-9a-f]{12}$/)]);

    await query(a.adminUrl, "CREATE TABLE only_in_a (id int)");
    const inB = await query(b.adminUrl, "SELECT to_regclass('only_in_a') AS found");
    expect(inB.rows[0].found).toBeNull();

    // A later start copies the template as it was built, not a server's changes.
    const c = await startPostgres();
    started.push(c);
    expect((await query(c.adminUrl, "SELECT to_regclass('only_in_a') AS found")).rows[0].found).toBeNull();
  });

  it("gives each server its own password: another server's does not open it", async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    started.push(a, b);
    const bPassword = new URL(b.adminUrl).password;
    const aWithBPassword = new URL(a.adminUrl);
    aWithBPassword.password = bPassword;
    await expect(query(aWithBPassword.toString(), "SELECT 1")).rejects.toThrow(
      /password authentication failed/,
    );
    expect((await query(a.adminUrl, "SELECT 1 AS one")).rows[0].one).toBe(1);
  });

  it("is refused from a cache directory that others may write to", async () => {
    await chmod(cache, 0o777);
    await expect(startPostgres()).rejects.toThrow(/writable by no one else/);
  });
});
