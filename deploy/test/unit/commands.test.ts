import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ageDecrypt, ageEncrypt } from "../../src/commands/age.js";
import { shellJoin, shellQuote } from "../../src/commands/argv.js";
import { appendRelease, parseLedger, type ReleaseRecord, recentReleases } from "../../src/commands/ledger.js";
import { acquireLock, describeHolder, parseLockHolder, releaseLock } from "../../src/commands/lock.js";
import {
  createDatabase,
  dropDatabase,
  parseDatabaseUrl,
  pgDump,
  pgRestore,
} from "../../src/commands/postgres.js";
import { knownHostsLine, sshArgv, sshMasterArgv } from "../../src/commands/ssh.js";

const target = {
  kind: "ssh" as const,
  host: "prod.example.com",
  user: "deploy",
  port: 2222,
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJJQO9U4xiAIDiuV1MZH7Sg9AAGSD3J+2ljtZA70ZoCX",
};

describe("ssh wrapping", () => {
  it("pins the host key, never prompts, and uses only the given key", () => {
    const files = { knownHostsFile: "/t/kh", identityFile: "/t/id", controlPath: "/t/cm" };
    const common =
      "-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/t/kh -o GlobalKnownHostsFile=/dev/null " +
      "-o IdentitiesOnly=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -i /t/id -o ControlPath=/t/cm -p 2222 -l deploy";
    expect(sshArgv(target, files, ["docker", "ps"]).join(" ")).toBe(
      `ssh ${common} -o ControlMaster=no prod.example.com -- docker ps`,
    );
    expect(sshMasterArgv(target, files).join(" ")).toBe(
      `ssh ${common} -o ControlMaster=yes -o ControlPersist=60 prod.example.com -- true`,
    );
  });

  it("writes non-default ports the way ssh looks them up in known_hosts", () => {
    expect(knownHostsLine(target)).toBe(`[prod.example.com]:2222 ${target.hostKey}\n`);
    expect(knownHostsLine({ ...target, port: 22 })).toBe(`prod.example.com ${target.hostKey}\n`);
  });

  it("quotes every argument so the remote shell receives it byte for byte", async () => {
    const nasty = ["plain", "two words", "it's", '$HOME `id` "q"', "a\nb", "*", ""];
    const { stdout } = await execa("sh", ["-c", `printf '%s\\0' ${shellJoin(nasty)}`]);
    expect(stdout.split("\0").slice(0, -1)).toEqual(nasty);
    expect(shellQuote("/srv/state/deploy.lock")).toBe("/srv/state/deploy.lock");
  });
});

describe("postgres commands", () => {
  const conn = parseDatabaseUrl(
    "postgres://app:s%40cret@db.internal:6543/shop?sslmode=require",
    "DATABASE_URL",
  );

  it("keep the password out of argv and hand it over as PGPASSWORD", () => {
    for (const command of [
      pgDump({ binDir: null }, conn, "/b/x.dump", "00000003-1"),
      pgRestore({ binDir: null }, conn, "/b/x.dump", "shop", "replace"),
      createDatabase({ binDir: null }, conn, "scratch"),
      dropDatabase({ binDir: null }, conn, "scratch"),
    ]) {
      expect(command.argv.join(" ")).not.toContain("s@cret");
      expect(command.env).toMatchObject({
        PGPASSWORD: "s@cret",
        PGHOST: "db.internal",
        PGPORT: "6543",
        PGSSLMODE: "require",
      });
    }
  });

  it("dump in custom format, fast compression, at the exported snapshot", () => {
    expect(pgDump({ binDir: "/usr/lib/postgresql/15/bin" }, conn, "/b/x.dump", "00000003-1").argv).toEqual([
      "/usr/lib/postgresql/15/bin/pg_dump",
      "--format=custom",
      "--compress=1",
      "--no-password",
      "--file=/b/x.dump",
      "--snapshot=00000003-1",
      "--dbname=shop",
    ]);
  });

  it("restore over live data atomically, replacing the dump's objects", () => {
    const argv = pgRestore({ binDir: null }, conn, "/b/x.dump", "shop", "replace").argv;
    expect(argv).toEqual(
      expect.arrayContaining(["--single-transaction", "--exit-on-error", "--clean", "--if-exists"]),
    );
    expect(pgRestore({ binDir: null }, conn, "/b/x.dump", "s", "into-empty").argv).not.toContain("--clean");
  });

  it("reject URLs that are not Postgres URLs or name no database", () => {
    expect(() => parseDatabaseUrl("mysql://h/db", "PROD_DATABASE_URL")).toThrow(
      "PROD_DATABASE_URL must start with postgres://",
    );
    expect(() => parseDatabaseUrl("postgres://h:5432/", "X")).toThrow("X names no database");
    expect(() => parseDatabaseUrl("not a url", "X")).toThrow("X is not a valid URL");
  });
});

describe("lock commands", () => {
  const holder = {
    holder: "ana@laptop",
    purpose: "deploy",
    since: "2026-11-23T10:00:00.000Z",
    token: "abcdef0123456789",
  };

  it("acquire sends the holder on stdin and treats 'already held' as an answer", () => {
    const command = acquireLock("/srv/state", holder);
    expect(command.argv.at(-1)).toBe("/srv/state/deploy.lock");
    expect(JSON.parse(command.stdin ?? "")).toEqual(holder);
    expect(command.okExitCodes).toEqual([3]);
  });

  it("release names our token, so it cannot remove someone else's lock", () => {
    expect(releaseLock("/srv/state", "abcdef0123456789").argv.slice(-2)).toEqual([
      "/srv/state/deploy.lock",
      "abcdef0123456789",
    ]);
  });

  it("describe the holder and flag a stale lock with how to break it", () => {
    const now = new Date("2026-11-23T12:30:00.000Z");
    expect(describeHolder(holder, now, 180)).toBe(
      "held by ana@laptop for deploy since 2026-11-23T10:00:00.000Z (150 min ago)",
    );
    expect(describeHolder(holder, now, 60)).toMatch(/older than 60 min.*shipyard lock break/);
    expect(parseLockHolder("")).toBeNull();
  });
});

describe("ledger commands", () => {
  const record: ReleaseRecord = {
    release: "r42",
    env: "prod",
    who: "ci@github",
    at: "2026-11-23T10:00:00.000Z",
    image: "ghcr.io/acme/app:abc123",
    digest: `sha256:${"a".repeat(64)}`,
    result: "succeeded",
  };

  it("append one JSON line through stdin", () => {
    const command = appendRelease("/srv/state", record);
    expect(command.argv.at(-1)).toBe("/srv/state/releases.jsonl");
    expect(command.stdin).toBe(`${JSON.stringify(record)}\n`);
    expect(parseLedger(command.stdin ?? "")).toEqual([record]);
  });

  it("refuse a record without a real digest", () => {
    expect(() => appendRelease("/s", { ...record, digest: "latest" })).toThrow(/sha256:<64 hex>/);
  });

  it("read the last N lines", () => {
    expect(recentReleases("/srv/state", 5).argv.slice(-2)).toEqual(["/srv/state/releases.jsonl", "5"]);
  });
});

describe("age commands", () => {
  it("encrypt to every recipient and decrypt with an identity file", () => {
    expect(ageEncrypt(["age1aaa", "age1bbb"], "in", "out.age").argv).toEqual([
      "age",
      "--encrypt",
      "-r",
      "age1aaa",
      "-r",
      "age1bbb",
      "-o",
      "out.age",
      "in",
    ]);
    expect(ageDecrypt("/k/id", "out.age", "in").argv).toEqual([
      "age",
      "--decrypt",
      "-i",
      "/k/id",
      "-o",
      "in",
      "out.age",
    ]);
  });
});
