/**
 * The record every operation ends in, as an operator meets it: the CLI as a real process against a local
 * environment and a real Postgres, a webhook receiver on 127.0.0.1 (node:http) that answers 200 or 500 or
 * is not there, and `shipyard audit` listing what the host's audit log kept.
 */

import { rm } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadline } from "../../../test/harness/deadline.js";
import { type EphemeralPostgres, startPostgres } from "../../../test/harness/ephemeral-postgres.js";
import { freePort } from "../../../test/harness/network.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { query } from "../../../test/harness/sql.js";
import { runCli } from "../support/cli.js";
import { composeIn, localEntry, writeEnvironmentsFile } from "../support/environment.js";

let server: EphemeralPostgres;
let dir: string;
let databaseUrl: string;
let config: string;
let receiver: http.Server;
let receiverUrl: string;
/** What the receiver answers next, and every body it was sent. */
let answer = 200;
const received: { method?: string; type?: string; body: unknown }[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => {
      text += chunk;
    });
    req.on("end", () => {
      received.push({ method: req.method, type: req.headers["content-type"], body: JSON.parse(text) });
      res.writeHead(answer).end(answer === 200 ? "ok" : "boom");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/T000/B000/secret`;
  [server, dir] = await Promise.all([startPostgres(), makeScratchDir("audit-notify")]);
  databaseUrl = await server.createDatabase("shop");
  await query(
    databaseUrl,
    "CREATE TABLE products (id serial PRIMARY KEY, name text); INSERT INTO products (name) VALUES ('p');",
  );
  config = await writeEnvironmentsFile(path.join(dir, "environments.yaml"), {
    local: {
      ...localEntry(dir, { compose: composeIn(dir), database: { urlEnv: "SHOP_URL" } }),
      notify: { webhookUrlEnv: "SHOP_WEBHOOK_URL" },
    },
  });
});
afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const shipyard = (args: string[], webhook: string | undefined) =>
  runCli(args, {
    config,
    env: { SHOP_URL: databaseUrl, SHIPYARD_WHO: "ana@laptop", SHOP_WEBHOOK_URL: webhook ?? "" },
  });
const warnings = (stderr: string) => stderr.split("\n").filter((line) => line.includes("warning:"));

describe("notifications and the audit log", () => {
  it(
    "a backup is posted to the webhook as Slack-compatible JSON with its record",
    async () => {
      answer = 200;
      received.length = 0;
      const { exitCode, stdout, stderr } = await shipyard(["backup", "--env=local", "--json"], receiverUrl);
      expect(exitCode).toBe(0);
      expect(warnings(stderr)).toEqual([]);
      const id = JSON.parse(stdout).result.backup.id;
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ method: "POST", type: "application/json" });
      const body = received[0]?.body as { text: string; shipyard: Record<string, unknown> };
      expect(body.text).toMatch(
        new RegExp(
          `^✅ shipyard backup on local succeeded in [\\d.]+ s \\(by ana@laptop\\) \\[backup ${id}\\]: backup ${id} verified`,
        ),
      );
      expect(body.shipyard).toMatchObject({
        operation: "backup",
        env: "local",
        who: "ana@laptop",
        result: "succeeded",
        backup: id,
      });
    },
    deadline({ cli: 2 }),
  );

  it(
    "a receiver that answers 500, one that is down, and no URL: the exit code stays, one warning line each",
    async () => {
      answer = 500;
      const failing = await shipyard(["backup", "--env=local"], receiverUrl);
      expect(failing.exitCode).toBe(0);
      expect(warnings(failing.stderr)).toEqual([
        "shipyard backup: warning: no notification sent: the webhook answered 500 Internal Server Error",
      ]);

      const down = await shipyard(["backup", "--env=local"], `http://127.0.0.1:${await freePort()}/hook`);
      expect(down.exitCode).toBe(0);
      expect(warnings(down.stderr)).toEqual([
        "shipyard backup: warning: no notification sent: the webhook could not be reached: ECONNREFUSED",
      ]);

      const unset = await shipyard(["backup", "--env=local"], undefined);
      expect(unset.exitCode).toBe(0);
      expect(warnings(unset.stderr)).toEqual([
        "shipyard backup: warning: notify.webhookUrlEnv names SHOP_WEBHOOK_URL, which is not set: no notification sent",
      ]);
      // The secret URL is in no message.
      for (const run of [failing, down, unset]) expect(run.stderr + run.stdout).not.toContain("secret");
    },
    deadline({ cli: 6 }),
  );

  it(
    "a failed backup is notified as failed and keeps its exit code; lock break is audited; audit lists them all",
    async () => {
      answer = 200;
      received.length = 0;
      const broken = await runCli(["backup", "--env=local"], {
        config,
        env: {
          SHOP_URL: `postgres://shop:pw@127.0.0.1:${await freePort()}/shop`,
          SHIPYARD_WHO: "ci@runner",
          SHOP_WEBHOOK_URL: receiverUrl,
        },
      });
      expect(broken.exitCode).toBe(1);
      expect(received.map((r) => (r.body as { shipyard: { result: string } }).shipyard.result)).toEqual([
        "failed",
      ]);

      const lockBreak = await shipyard(["lock", "break", "--env=local"], receiverUrl);
      expect(lockBreak.exitCode).toBe(0);
      // lock break is audited, not notified.
      expect(received).toHaveLength(1);

      const table = await shipyard(["audit", "--env=local"], undefined);
      expect(table.exitCode).toBe(0);
      const lines = table.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^at +operation +result +duration +who +summary$/);
      expect(lines.slice(1).map((l) => l.split(/ {2,}/).slice(1, 3))).toEqual([
        ["backup", "succeeded"],
        ["backup", "succeeded"],
        ["backup", "succeeded"],
        ["backup", "succeeded"],
        ["backup", "failed"],
        ["lock break", "succeeded"],
      ]);
      expect(lines.at(-1)).toMatch(/lock break +succeeded +[\d.]+ s +ana@laptop +there was no lock$/);

      const json = JSON.parse(
        (await shipyard(["audit", "--env=local", "--limit=2", "--json"], undefined)).stdout,
      );
      expect(json.result.records).toMatchObject([
        { operation: "backup", result: "failed", who: "ci@runner" },
        { operation: "lock break", result: "succeeded", summary: "there was no lock" },
      ]);
    },
    deadline({ cli: 6 }),
  );
});
