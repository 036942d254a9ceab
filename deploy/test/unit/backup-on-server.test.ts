/**
 * Backups kept on the server (backup.where: server) against FakeRunner and FakeHost: the exact commands a
 * backup, an import and a restore run on the host (none here), that --dry-run prints the steps a run
 * takes, and for a failure at each step that nothing is catalogued, no file is left on the server and no
 * throw-away container stays; a disk too small is refused before anything changes.
 */
import { writeFileSync } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import {
  BackupRefused,
  backup,
  importBackup,
  NoSpaceLeft,
  planBackup,
  planImportSteps,
} from "../../src/backup/backup.js";
import { backupTimeFile, backupTimeText } from "../../src/backup/backup-time.js";
import { type BackupEntry, catalogText, parseCatalog } from "../../src/backup/catalog.js";
import { postgresContainer } from "../../src/backup/context.js";
import { planRestore, restore } from "../../src/backup/restore.js";
import { serverCatalog } from "../../src/backup/server-catalog.js";
import { READY_SECONDS, throwawaySeconds } from "../../src/backup/throwaway-check.js";
import { NO_OPTIONS, type Options } from "../../src/cli/args.js";
import { backupCommand, backupsCommand } from "../../src/cli/backup.js";
import type { CliContext } from "../../src/cli/context.js";
import type { Command } from "../../src/commands/argv.js";
import { acquireLock } from "../../src/commands/lock.js";
import {
  COUNTS_MARKER,
  containerCounts,
  containerDatabaseSize,
  containerRestore,
} from "../../src/commands/postgres.js";
import {
  archiveList,
  awaitThrowaway,
  fileFacts,
  lockServerCatalog,
  moveFile,
  parseFileFacts,
  parseImageId,
  parseServerSpace,
  postgresImage,
  readServerCatalog,
  receiveFile,
  removeThrowaway,
  restoreIntoThrowaway,
  sendFile,
  serverDump,
  serverSpace,
  startThrowaway,
  throwawayCounts,
  unlockServerCatalog,
  withStdinFrom,
  writeServerCatalog,
} from "../../src/commands/server-backup.js";
import { writeTextfile } from "../../src/commands/textfile.js";
import type { Environment } from "../../src/config/environments.js";
import { parseEnvironments, selectEnvironment } from "../../src/config/environments.js";
import { line, type SceneOptions, scene, stepsAfterFailure, TABLES } from "../support/backup-scene.js";
import { environmentFrom, localEntry, uncheckedEnvironmentsYaml } from "../support/environment.js";
import { IMAGE_ID } from "../support/fake-host.js";

const DIRECTORY = "/srv/shop/state/backups";

let dir: string;
let env: Environment;
beforeEach(async () => {
  dir = await makeScratchDir("backup-on-server");
  env = environmentFrom(
    "prod",
    localEntry(dir, {
      compose: { project: "shop", directory: "/srv/shop/compose", nginxConfDirectory: "/srv/shop/nginx" },
      stateDirectory: "/srv/shop/state",
      database: { urlEnv: "UNUSED", dumpFrom: "compose-service" },
      backup: { where: "server", retention: { last: 2, daily: 1, weekly: 0 } },
    }),
  );
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const target = () => postgresContainer(env);
/** The throw-away container a run started, from its docker run. */
const throwawayIn = (ran: readonly Command[], nth = 0) =>
  ran
    .filter((c) => c.argv[1] === "run")
    [nth]?.argv.find((a) => a.startsWith("--name="))
    ?.slice(7) ?? "";
const catalogOnServer = (s: ReturnType<typeof scene>) =>
  parseCatalog(
    s.server.files.get(`${DIRECTORY}/catalog.json`)?.toString("utf8") ?? catalogText([]),
    "catalog",
  );
const hex = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("hex");

describe("the environment", () => {
  const file = (backup: Record<string, unknown>, database: Record<string, unknown>) =>
    uncheckedEnvironmentsYaml({ prod: { ...localEntry("."), database, backup } });
  const retention = { daily: 1, weekly: 0 };
  const inContainer = { urlEnv: "U", dumpFrom: "compose-service" };

  it("keeps backups beside the ledger unless the file says where", () => {
    expect(env.backup).toMatchObject({ where: "server", directory: DIRECTORY });
    const named = parseEnvironments(file({ where: "server", directory: "/b", retention }, inContainer), "f");
    expect(selectEnvironment(named, "prod", "f").backup.directory).toBe("/b");
  });

  it("refuses what cannot go together, naming the field", () => {
    expect(() => parseEnvironments(file({ where: "server", retention }, { urlEnv: "U" }), "f")).toThrow(
      /environments\.prod\.backup\.where: server needs database\.dumpFrom: compose-service/,
    );
    expect(() => parseEnvironments(file({ retention }, inContainer), "f")).toThrow(
      /environments\.prod\.backup\.directory: required with backup\.where: cli/,
    );
    expect(() =>
      parseEnvironments(file({ where: "server", retention, encryptTo: ["age1abc"] }, inContainer), "f"),
    ).toThrow(/environments\.prod\.backup\.encryptTo: not supported with backup\.where: server yet/);
  });
});

describe("a backup on the server, run against FakeRunner", () => {
  it("runs every command on the host, none here, and catalogues the verified file there", async () => {
    const s = scene(env);
    const { entry, removed } = await backup(s.ctx);
    const partial = `${DIRECTORY}/${entry.id}.dump.partial`;
    const stored = `${DIRECTORY}/${entry.id}.dump`;
    const name = throwawayIn(s.host.ran);
    const catalogued = catalogText([entry]);

    expect(s.host.lines).toEqual(
      [
        containerDatabaseSize(target()),
        serverSpace(DIRECTORY),
        serverDump(target(), partial),
        postgresImage(target()),
        startThrowaway(name, IMAGE_ID, throwawaySeconds(env)),
        awaitThrowaway(name, READY_SECONDS),
        restoreIntoThrowaway(name, partial),
        throwawayCounts(name),
        removeThrowaway(name),
        fileFacts(partial),
        moveFile(partial, stored),
        // record: the catalog changed under its lock, written whole
        lockServerCatalog(DIRECTORY),
        readServerCatalog(DIRECTORY),
        writeServerCatalog(DIRECTORY, catalogued),
        unlockServerCatalog(DIRECTORY),
        // the backup's time, for node-exporter beside compose.yaml
        writeTextfile(backupTimeFile(env), ""),
        // retention
        lockServerCatalog(DIRECTORY),
        readServerCatalog(DIRECTORY),
        writeServerCatalog(DIRECTORY, catalogued),
        unlockServerCatalog(DIRECTORY),
      ].map(line),
    );
    expect(s.host.ran.find((c) => c.argv[3] === "shipyard-catalog" && c.stdin)?.stdin).toBe(catalogued);
    expect(s.local.lines).toEqual([]);

    expect(entry).toMatchObject({
      file: `${entry.id}.dump`,
      database: "shop",
      tables: TABLES,
      encrypted: false,
      sizeBytes: s.server.dumpText.length,
    });
    expect(catalogOnServer(s)).toEqual([entry]);
    expect(s.server.list(DIRECTORY)).toEqual(["catalog.json", entry.file]);
    expect(s.server.files.get(backupTimeFile(env))?.toString()).toBe(backupTimeText("prod", entry));
    expect(s.server.containers.size).toBe(0);
    expect(removed).toEqual([]);
  });

  it("starts the throw-away from the stack's image, without network, bounded, removed after, named at random", async () => {
    const s = scene(env);
    await backup(s.ctx);
    await backup(s.ctx);
    const [first, second] = [throwawayIn(s.host.ran, 0), throwawayIn(s.host.ran, 1)];
    expect(first).toMatch(/^shipyard-verify-[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
    const run: readonly string[] = s.host.ran.find((c) => c.argv[1] === "run")?.argv ?? [];
    expect(run).toEqual(
      expect.arrayContaining(["--rm", "--network=none", "--pull=never", "--entrypoint=timeout", IMAGE_ID]),
    );
    expect(run.slice(run.indexOf(IMAGE_ID) + 1, run.indexOf(IMAGE_ID) + 6)).toEqual([
      "-s",
      "INT",
      String(throwawaySeconds(env)),
      "docker-entrypoint.sh",
      "postgres",
    ]);
    // No secret anywhere: the throw-away trusts its own socket, which only docker exec reaches.
    expect(run.join(" ")).not.toMatch(/PASSWORD=/);
  });

  it("takes the very steps --dry-run prints, in the same order", async () => {
    const s = scene(env);
    await backup(s.ctx);
    expect(s.progress.steps.map((p) => p.step)).toEqual(planBackup(s.ctx).map((p) => p.step));
    const plan = planBackup(s.ctx, "b1");
    expect(plan.find((p) => p.step === "dump on server")?.argv).toEqual(
      serverDump(target(), `${DIRECTORY}/b1.dump.partial`).argv,
    );
    expect(plan.find((p) => p.step === "throwaway postgres")?.argv).toContain(
      "<image id of the running postgres service>",
    );
  });

  it("with --fetch-to, copies the verified file here and checks it against the catalogued checksum", async () => {
    const s = scene(env);
    const to = path.join(dir, "out", "prod.dump");
    const result = await backup(s.ctx, { fetchTo: to });
    const stored = `${DIRECTORY}/${result.entry.id}.dump`;
    expect(s.host.lines).toContain(line(sendFile(stored, to)));
    expect(s.host.ran.find((c) => c.argv[0] === "cat")?.stdoutFile).toBe(to);
    expect(await readFile(to, "utf8")).toBe(s.server.dumpText);
    expect((await stat(to)).mode & 0o777).toBe(0o600);
    expect(result.fetchedTo).toBe(to);
    expect(planBackup(s.ctx, "b1", { fetchTo: to }).map((p) => p.step)).toContain("fetch");
  });

  it("a fetch that fails keeps the verified backup on the server and no half copy here", async () => {
    const to = path.join(dir, "prod.dump");
    const failing = scene(env, {
      answers: (c) => {
        if (c.argv[0] !== "cat" || !c.stdoutFile) return undefined;
        writeFileSync(c.stdoutFile, "PGDMP ha");
        return { exitCode: 255, stderr: "client_loop: send disconnect: Broken pipe" };
      },
    });
    const failed = backup(failing.ctx, { fetchTo: to });
    await expect(failed).rejects.toThrow(
      /^backup prod-\S+ is verified and kept on the server at \/srv\/shop\/state\/backups\/prod-\S+\.dump, but fetching it failed: /,
    );
    expect(catalogOnServer(failing)).toHaveLength(1);
    await expect(stat(to)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("applies retention in the server's catalog, then removes the files there", async () => {
    const s = scene(env);
    const old = (id: string, day: string): BackupEntry => ({
      id,
      env: "prod",
      createdAt: `2026-01-${day}T00:00:00.000Z`,
      file: `${id}.dump`,
      sizeBytes: 5,
      sha256: "0".repeat(64),
      verified: true,
      verifiedAt: `2026-01-${day}T00:00:00.000Z`,
      encrypted: false,
      database: "shop",
      tables: TABLES,
    });
    const before = [old("prod-a", "01"), old("prod-b", "02")];
    s.server.files.set(`${DIRECTORY}/catalog.json`, Buffer.from(catalogText(before)));
    for (const b of before) s.server.files.set(`${DIRECTORY}/${b.file}`, Buffer.from("PGDMP"));
    const { entry, removed } = await backup(s.ctx);
    expect(removed).toEqual(["prod-a"]);
    expect(catalogOnServer(s).map((b) => b.id)).toEqual(["prod-b", entry.id]);
    expect(s.server.list(DIRECTORY)).toEqual(["catalog.json", entry.file, "prod-b.dump"].sort());
  });
});

const SERVER_STEPS = [
  "preflight: database size",
  "preflight: free space",
  "dump on server",
  "postgres image",
  "throwaway postgres",
  "throwaway ready",
  "restore into throwaway",
  "verify row counts",
  "remove throwaway",
  "record",
];

describe("a backup on the server that fails", () => {
  it.each(SERVER_STEPS)(
    "at %s lists nothing, leaves no file on the server and no throw-away container",
    async (failAt) => {
      const s = scene(env, { failAt });
      await expect(backup(s.ctx)).rejects.toThrow(`${failAt} broke`);

      expect(catalogOnServer(s)).toEqual([]);
      expect(s.server.list(DIRECTORY)).toEqual([]);
      expect(s.server.containers.size).toBe(0);
      expect(s.server.directories.size).toBe(0);
      expect(s.progress.steps.find((p) => !p.ok)?.step).toBe(failAt);
      const at = SERVER_STEPS.indexOf(failAt);
      const started = at >= SERVER_STEPS.indexOf("throwaway postgres") && failAt !== "record";
      const dumped = at >= SERVER_STEPS.indexOf("dump on server");
      expect(stepsAfterFailure(s.progress)).toEqual([
        ...(started ? ["remove throwaway"] : []),
        ...(dumped ? ["remove partial dump"] : []),
      ]);
      // Refused before the dump: nothing on the server was touched, so nothing is cleaned up there.
      if (!dumped) expect(s.host.lines.every((l) => !/^(rm|mv|docker run) /.test(l))).toBe(true);
    },
  );

  it("as a dump that does not hold the source is refused, and the throw-away is removed all the same", async () => {
    const s = scene(env);
    s.server.restoredCounts = `${COUNTS_MARKER} ${hex({ database: "shipyard_verify", tables: [{ table: "public.orders", rows: 4 }] })}\n`;
    const failed = backup(s.ctx);
    await expect(failed).rejects.toThrow(
      new BackupRefused(
        "the restored dump differs: table public.orders has 4 rows, source had 5; table public.products is missing (source had 3 rows)",
      ),
    );
    expect(s.server.list(DIRECTORY)).toEqual([]);
    expect(s.server.containers.size).toBe(0);
  });
});

describe("a server whose disk is too small", () => {
  const spaceScene = (
    free: { directory: number; dockerRoot: number },
    sameDisk: boolean,
    o: SceneOptions = {},
  ) => {
    const s = scene(env, { databaseBytes: 100_000_000, ...o });
    s.server.directoryFree = { mount: sameDisk ? "/" : "/srv", free: free.directory };
    s.server.dockerRoot = { path: "/var/lib/docker", mount: "/", free: free.dockerRoot };
    return s;
  };

  it("is refused before anything changes when the dump and the throw-away share a disk that holds one of them", async () => {
    const s = spaceScene({ directory: 150_000_000, dockerRoot: 150_000_000 }, true);
    const refused = backup(s.ctx);
    await expect(refused).rejects.toBeInstanceOf(NoSpaceLeft);
    await expect(refused).rejects.toThrow(
      `no space left on device in ${DIRECTORY} (needs ~268 MB, has 150 MB): the dump and the throw-away restore that verifies it share this disk`,
    );
    expect(s.host.lines).toEqual([line(containerDatabaseSize(target())), line(serverSpace(DIRECTORY))]);
    expect(s.server.list(DIRECTORY)).toEqual([]);
  });

  it("names Docker's data root when the throw-away restore would not fit there", async () => {
    const s = spaceScene({ directory: 500_000_000, dockerRoot: 120_000_000 }, false);
    await expect(backup(s.ctx)).rejects.toThrow(
      /^no space left on device in \/var\/lib\/docker \(needs ~168 MB, has 120 MB\): Docker's data root/,
    );
    const fits = spaceScene({ directory: 110_000_000, dockerRoot: 200_000_000 }, false);
    await expect(backup(fits.ctx)).resolves.toBeDefined();
    const short = spaceScene({ directory: 90_000_000, dockerRoot: 200_000_000 }, false);
    await expect(backup(short.ctx)).rejects.toThrow(
      new NoSpaceLeft(`no space left on device in ${DIRECTORY} (needs ~100 MB, has 90 MB)`),
    );
  });

  it("with the engine elsewhere, checks only the dump's room on the host", async () => {
    const s = spaceScene({ directory: 150_000_000, dockerRoot: 0 }, true);
    s.server.dockerRoot = null;
    await expect(backup(s.ctx)).resolves.toBeDefined();
    expect(s.progress.steps[1]?.detail).toMatch(/Docker's data root is not on this host \(not checked\)$/);
  });

  it("found by the dump is named with the directory and the space, and no half dump is left", async () => {
    const s = scene(env, {
      answers: (c) => {
        if (c.argv[3] !== "shipyard-dump") return undefined;
        s.server.files.set(c.argv[4] ?? "", Buffer.from("PGDMP half"));
        s.server.directoryFree = { mount: "/", free: 10_000 };
        return { exitCode: 1, stderr: "write /dev/stdout: no space left on device\n" };
      },
    });
    const failed = backup(s.ctx);
    await expect(failed).rejects.toThrow(
      new NoSpaceLeft(`no space left on device in ${DIRECTORY} (needs ~8 MB, has 0 MB)`),
    );
    expect(s.server.list(DIRECTORY)).toEqual([]);
  });
});

describe("an import (restore --file) to the server", () => {
  it("sends the dump to the host, restores it in a throw-away, reads its database there, and records it", async () => {
    const exported = path.join(dir, "exported.dump");
    await writeFile(exported, "PGDMP from elsewhere");
    const s = scene(env);
    const entry = await importBackup(s.ctx, exported);
    const partial = `${DIRECTORY}/${entry.id}.dump.partial`;
    const name = throwawayIn(s.host.ran);
    expect(s.host.lines.slice(0, 8)).toEqual(
      [
        receiveFile(partial),
        postgresImage(target()),
        startThrowaway(name, IMAGE_ID, throwawaySeconds(env)),
        awaitThrowaway(name, READY_SECONDS),
        restoreIntoThrowaway(name, partial),
        throwawayCounts(name),
        removeThrowaway(name),
        archiveList(target(), partial),
      ].map(line),
    );
    expect(s.host.ran[0]?.stdinFile).toBe(exported);
    expect(s.local.lines).toEqual([]);
    expect(entry).toMatchObject({ database: "shop", tables: TABLES, reason: "imported from exported.dump" });
    expect(s.server.files.get(`${DIRECTORY}/${entry.file}`)?.toString()).toBe("PGDMP from elsewhere");
    expect(s.progress.steps.map((p) => p.step)).toEqual(planImportSteps(s.ctx, exported).map((p) => p.step));
  });

  it("refuses a file that is not a pg_dump archive before anything reaches the server", async () => {
    const notes = path.join(dir, "notes.txt");
    await writeFile(notes, "hello");
    const s = scene(env);
    await expect(importBackup(s.ctx, notes)).rejects.toThrow(
      /notes\.txt is not a pg_dump custom-format archive/,
    );
    expect(s.host.lines).toEqual([]);
  });
});

describe("a restore of a backup kept on the server", () => {
  const request = (id: string) => ({ id, confirm: "prod", ageIdentityFile: undefined, who: "ci" });

  it("checks the file and restores it on the host, from any machine: nothing runs here", async () => {
    // Made from one machine, restored from another: only the server's files are shared.
    const first = scene(env);
    const made = await backup(first.ctx);
    const s = scene(env);
    for (const [file, content] of first.server.files) s.server.files.set(file, content);
    const stored = `${DIRECTORY}/${made.entry.id}.dump`;
    const result = await restore(s.ctx, s.host, request(made.entry.id));

    const name = throwawayIn(s.host.ran);
    expect(s.host.lines.slice(0, 10)).toEqual(
      [
        readServerCatalog(DIRECTORY),
        fileFacts(stored),
        archiveList(target(), stored),
        postgresImage(target()),
        startThrowaway(name, IMAGE_ID, throwawaySeconds(env)),
        awaitThrowaway(name, READY_SECONDS),
        restoreIntoThrowaway(name, stored),
        throwawayCounts(name),
        removeThrowaway(name),
        acquireLock(env.stateDirectory, { holder: "", purpose: "", since: "", token: "" }),
      ].map(line),
    );
    const restoreCommand = withStdinFrom(stored, containerRestore(target(), stored).argv);
    expect(s.host.lines.slice(-3, -1)).toEqual([line(restoreCommand), line(containerCounts(target()))]);
    expect(s.local.lines).toEqual([]);
    expect(result.restored).toEqual(made.entry);
    expect(catalogOnServer(s).map((b) => b.id)).toEqual([made.entry.id, result.safetyBackup.id]);
    expect(s.server.containers.size).toBe(0);
    expect(planRestore(s.ctx, made.entry).find((p) => p.step === "restore")?.argv).toEqual(
      restoreCommand.argv,
    );
  });

  it("refuses a file changed on the server before the lock", async () => {
    const s = scene(env);
    const { entry } = await backup(s.ctx);
    s.server.files.set(`${DIRECTORY}/${entry.file}`, Buffer.from("PGDMP tampered"));
    await expect(restore(s.ctx, s.host, request(entry.id))).rejects.toThrow(
      `backup ${entry.id} is corrupted: ${DIRECTORY}/${entry.file} has sha256`,
    );
  });

  const failures: [step: string, nth: number, safety: boolean][] = [
    ["checksum", 1, false],
    ["contents", 1, false],
    ["throwaway postgres", 1, false],
    ["restore into throwaway", 1, false],
    ["verify row counts", 1, false],
    ["lock", 1, false],
    ["dump on server", 1, false],
    ["verify row counts", 2, false],
    ["restore", 1, true],
    ["verify row counts", 3, true],
  ];

  it.each(failures)(
    "that fails at %s (#%i) leaves no throw-away, no partial file, no lock; the safety backup when taken",
    async (failAt, nth, safety) => {
      const made = scene(env);
      const { entry } = await backup(made.ctx);
      const s = scene(env, { failAt, nth });
      for (const [file, content] of made.server.files) s.server.files.set(file, content);
      await expect(restore(s.ctx, s.host, request(entry.id))).rejects.toThrow();
      expect(s.server.containers.size).toBe(0);
      expect(s.server.list(DIRECTORY).filter((f) => f.endsWith(".partial"))).toEqual([]);
      expect(s.server.directories.size).toBe(0);
      expect(catalogOnServer(s)).toHaveLength(safety ? 2 : 1);
      expect(s.server.list(DIRECTORY)).toHaveLength(safety ? 3 : 2);
    },
  );
});

describe("the catalog on the server", () => {
  it("waits for a lock another run holds, then says where it is rather than waiting forever", async () => {
    const s = scene(env);
    s.server.directories.add(`${DIRECTORY}/catalog.lock`);
    await expect(serverCatalog(s.host, DIRECTORY, 300).update((b) => b)).rejects.toThrow(
      `the backup catalog on fake@host:22 stayed locked for 0.3 s; if no backup is running, remove ${DIRECTORY}/catalog.lock there`,
    );
    expect(s.server.files.has(`${DIRECTORY}/catalog.json`)).toBe(false);
  });

  it("reads no catalog as no backups, and a damaged one as an error naming the file on the host", async () => {
    const s = scene(env);
    expect(await serverCatalog(s.host, DIRECTORY).read()).toEqual([]);
    s.server.files.set(`${DIRECTORY}/catalog.json`, Buffer.from('{"version": 1, "backups": ['));
    await expect(serverCatalog(s.host, DIRECTORY).read()).rejects.toThrow(
      `${DIRECTORY}/catalog.json on fake@host:22 is not valid JSON`,
    );
  });
});

describe("the CLI, from any machine", () => {
  const cliContext = (s: ReturnType<typeof scene>, options: Partial<Options> = {}): CliContext => ({
    environment: env,
    options: { ...NO_OPTIONS, ...options },
    subcommand: undefined,
    passed: [],
    terminal: { input: false, output: false },
    progress: s.progress,
    who: "ci",
    local: s.local,
    host: async () => s.host,
  });

  it("backups lists the catalog on the server", async () => {
    const s = scene(env);
    const { entry } = await backup(s.ctx);
    const listed = await backupsCommand.run(cliContext(s));
    expect(listed.result).toEqual({ backups: [entry] });
    expect(listed.summary[0]).toMatch(/^backup\s+created\s+size/);
    expect(listed.summary[1]).toMatch(new RegExp(`^${entry.id} `));
  });

  it("backup --fetch-to says where the file is on the server and where its copy is here", async () => {
    const s = scene(env);
    const to = path.join(dir, "prod.dump");
    const done = await backupCommand.run(cliContext(s, { "fetch-to": to }));
    const result = done.result as { backup: BackupEntry; path: string; onServer: string; fetchedTo: string };
    expect(result.path).toBe(`${DIRECTORY}/${result.backup.file}`);
    expect(result.onServer).toBe("fake@host:22");
    expect(result.fetchedTo).toBe(to);
    expect(done.summary[1]).toBe(`stored at ${DIRECTORY}/${result.backup.file} on fake@host:22`);
    expect(done.summary[2]).toBe(`copied to ${to}`);
    expect(s.local.lines).toEqual([]);
  });
});

describe("what the host's tools print", () => {
  it("df of the backup directory and Docker's data root, mount points with spaces and all", () => {
    const stdout = "/var/lib/docker\nMounted on      Avail\n/srv/my disk   1000\n/   2000\n";
    expect(parseServerSpace(stdout)).toEqual({
      directory: { mount: "/srv/my disk", free: 1000 },
      dockerRoot: { path: "/var/lib/docker", mount: "/", free: 2000 },
    });
    expect(() => parseServerSpace("Cannot connect to the Docker daemon\n")).toThrow(/no free space/);
    // An engine elsewhere: its root is not on this host's disks, and only the directory is measured.
    expect(parseServerSpace("/var/lib/docker\nMounted on Avail\n/ 1000\n").dockerRoot).toBeNull();
  });

  it("the image id, size and checksum, or a failure that says what was printed", () => {
    expect(parseImageId(`${IMAGE_ID}\n`)).toBe(IMAGE_ID);
    expect(() => parseImageId("postgres:15\n")).toThrow(/no image id: "postgres:15\\n"/);
    expect(parseFileFacts(`12\n${"a".repeat(64)}  /b/x.dump\n`)).toEqual({
      sizeBytes: 12,
      sha256: "a".repeat(64),
    });
    expect(() => parseFileFacts("")).toThrow(/no size and checksum/);
  });
});
