/**
 * Off-site copies as an operator meets them: the CLI backs up a real Postgres and uploads the verified
 * file to an S3 API on 127.0.0.1 (the s3rver stand-in); a store that refuses leaves the backup verified
 * and listed here, reported with the way to retry, and the retry uploads the same bytes.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EphemeralPostgres, startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { query } from "../../../test/harness/sql.js";
import { readCatalog } from "../../src/backup/catalog.js";
import { runCli } from "../support/cli.js";
import {
  composeIn,
  type EnvironmentEntry,
  localEntry,
  writeEnvironmentsFile,
} from "../support/environment.js";
import { type S3StandIn, sha256, startS3StandIn } from "../support/s3-stand-in.js";

let server: EphemeralPostgres;
let store: S3StandIn;
let dir: string;
let databaseUrl: string;
let config: string;

beforeAll(async () => {
  [server, store, dir] = await Promise.all([
    startPostgres(),
    startS3StandIn(["backups"]),
    makeScratchDir("offsite"),
  ]);
  databaseUrl = await server.createDatabase("shop");
  await query(
    databaseUrl,
    `CREATE TABLE products (id serial PRIMARY KEY, name text);
     INSERT INTO products (name) SELECT 'p' || i FROM generate_series(1, 300) i;`,
  );
  const environment = (name: string, bucketUrl: string): EnvironmentEntry =>
    localEntry(`${dir}/${name}`, {
      compose: composeIn(`${dir}/${name}`),
      publicUrl: "http://127.0.0.1:9",
      database: { urlEnv: "SHOP_URL" },
      backup: {
        directory: `${dir}/${name}/backups`,
        retention: { daily: 7, weekly: 4 },
        upload: { url: bucketUrl, endpoint: store.endpoint, pathStyle: true },
      },
    });
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    local: environment("local", "s3://backups/shop/local"),
    nobucket: environment("nobucket", "s3://missing-bucket/x/"),
  });
});
afterAll(async () => {
  await Promise.all([server?.stop(), store?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function shipyard(env: Record<string, string>, ...args: string[]) {
  return runCli(args, {
    config,
    // Only what the test names: AWS_* of whoever runs the tests must not leak in.
    env: { PATH: process.env.PATH ?? "", SHOP_URL: databaseUrl, ...env },
    extendEnv: false,
  });
}

describe("off-site copies of verified backups", () => {
  it("uploads the verified file and a manifest; the stored object has the backup's exact bytes", async () => {
    const made = await shipyard(store.env, "backup", "--env=local", "--json");
    expect(made.exitCode, made.stderr).toBe(0);
    const answer = JSON.parse(made.stdout);
    const entry = answer.result.backup;
    expect(answer.steps.map((s: { step: string }) => s.step)).toContain("upload");
    expect(answer.result.upload).toEqual({ ok: true, url: `s3://backups/shop/local/${entry.file}` });

    const local = await readFile(answer.result.path);
    const remote = await store.get("backups", `shop/local/${entry.file}`);
    expect(sha256(remote)).toBe(sha256(local));
    expect(sha256(remote)).toBe(entry.sha256);
    const manifest = JSON.parse((await store.get("backups", `shop/local/${entry.id}.json`)).toString());
    expect(manifest).toMatchObject({
      id: entry.id,
      sha256: entry.sha256,
      tables: [{ table: "public.products", rows: 300 }],
    });

    const [catalogued] = (await readCatalog(path.join(dir, "local/backups"))).filter(
      (b) => b.id === entry.id,
    );
    expect(catalogued?.offsite?.url).toBe(`s3://backups/shop/local/${entry.file}`);
    const listed = await shipyard(store.env, "backups", "--env=local");
    const [header, row] = listed.stdout.split("\n").filter((line) => /^backup\s|^local-/.test(line));
    expect(header).toMatch(/^backup\s+created\s+size\s+encrypted\s+off-site\s+reason$/);
    expect(row).toContain(entry.id);
    // Aligned: the off-site URL starts under its column's header.
    expect(row?.indexOf(`s3://backups/shop/local/${entry.file}`)).toBe(header?.indexOf("off-site"));
  });

  it("a refused upload keeps the verified backup listed here, exits 1 naming the secret, and the retry uploads it", async () => {
    const refused = await shipyard(
      { ...store.env, AWS_SECRET_ACCESS_KEY: "not-the-secret" },
      "backup",
      "--env=local",
      "--json",
    );
    expect(refused.exitCode).toBe(1);
    const answer = JSON.parse(refused.stdout);
    expect(answer.ok).toBe(false);
    expect(answer.error.kind).toBe("UploadFailed");
    expect(answer.error.message).toMatch(/SignatureDoesNotMatch.*check AWS_SECRET_ACCESS_KEY/);
    const id: string = answer.result.backup.id;
    expect(answer.error.message).toContain(`shipyard upload --env=local --backup=${id}`);
    // Still a good backup: catalogued as verified, its file in place, just not off-site.
    const catalogued = (await readCatalog(path.join(dir, "local/backups"))).find((b) => b.id === id);
    expect(catalogued).toMatchObject({ verified: true });
    expect(catalogued?.offsite).toBeUndefined();
    await expect(store.get("backups", `shop/local/${answer.result.backup.file}`)).rejects.toMatchObject({
      name: "NoSuchKey",
    });

    const retried = await shipyard(store.env, "upload", "--env=local", `--backup=${id}`);
    expect(retried.exitCode, retried.stderr).toBe(0);
    expect(retried.stdout).toContain(`backup ${id} uploaded to s3://backups/shop/local/`);
    const remote = await store.get("backups", `shop/local/${answer.result.backup.file}`);
    expect(sha256(remote)).toBe(answer.result.backup.sha256);
  });

  it("a missing bucket or missing credentials are named, with what to do", async () => {
    const noBucket = await shipyard(store.env, "backup", "--env=nobucket");
    expect(noBucket.exitCode).toBe(1);
    expect(noBucket.stderr).toMatch(
      /NoSuchBucket.*create the bucket, or fix the bucket in backup\.upload\.url/,
    );
    expect(noBucket.stdout).toMatch(/^backup nobucket-\S+ verified/m);

    const noKey = await shipyard({}, "backup", "--env=local");
    expect(noKey.exitCode).toBe(1);
    expect(noKey.stderr).toContain("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  });

  it("refuses to upload a catalogued file whose bytes changed since it was verified", async () => {
    const made = JSON.parse((await shipyard(store.env, "backup", "--env=local", "--json")).stdout);
    await writeFile(made.result.path, "tampered");
    const upload = await shipyard(store.env, "upload", "--env=local", `--backup=${made.result.backup.id}`);
    expect(upload.exitCode).toBe(1);
    expect(upload.stderr).toMatch(
      /has sha256 [0-9a-f]{64}, not the [0-9a-f]{64} it was verified with; not uploading/,
    );
  });
});
