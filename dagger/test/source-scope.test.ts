/**
 * What of the repository reaches the engine (the default source's ignore list) against what git keeps
 * out, and what the source scan reads: every Dockerfile in its scope must pass the checks that fail `scan`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { checkDockerfile, instructions } from "../src/lib/dockerfile-checks.js";
import { inScanScope, isIgnored, SCAN_EXCLUDED_DIRECTORIES, SOURCE_IGNORE } from "../src/lib/source-scope.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const git = (args: string[], input?: string) =>
  execa("git", args, { cwd: repoRoot, reject: false, ...(input === undefined ? {} : { input }) });

const trackedFiles = async () => (await git(["ls-files"])).stdout.split("\n").filter(Boolean);

/** What a checkout accumulates beside its tracked files: dependencies, output, secrets, local state. */
const GENERATED = [
  "node_modules/vitest/index.js",
  "app/node_modules/pg/index.js",
  "dagger/node_modules/zod/index.js",
  "dist/index.js",
  "app/dist/cli.js",
  "reports/junit.xml",
  "coverage/lcov.info",
  "app/coverage/lcov.info",
  "npm-debug.log",
  "app/server.log",
  "tmp/scratch.txt",
  "dagger/sdk/index.ts",
  "examples/fastapi/catalog/__pycache__/app.cpython-311.pyc",
  "examples/fastapi/.pytest_cache/v/cache/nodeids",
];
const SECRETS_AND_STATE = [
  ".env",
  "app/.env",
  "compose/.env",
  "compose/prod.env",
  "deploy/.env.local",
  "compose/certs/privkey.pem",
  "compose/certs/fullchain.pem",
  "nginx/certs/privkey.pem",
  "nginx/privkey.pem",
  "nginx/tls.key",
  ".shipyard/local/ledger.json",
  ".shipyard/local/deploy.lock",
  ".shipyard/backups/local/shipyard-20261202T0600Z.dump",
  ".shipyard/incoming/restore-ab12.dump",
  "compose/monitoring/textfile/shipyard_backup_local.prom",
  "backups/prod.dump",
  "prod.dump",
  "shipyard.tar",
];

/** `git check-ignore` over many paths: which are ignored, and by which .gitignore line. */
async function gitIgnore(paths: readonly string[]) {
  const { stdout } = await git(
    ["check-ignore", "--no-index", "--verbose", "--non-matching", "--stdin"],
    [...paths, ""].join("\n"),
  );
  const ignored = new Set<string>();
  const linesUsed = new Set<string>();
  for (const row of stdout.split("\n").filter(Boolean)) {
    const [source = "", file = ""] = row.split("\t");
    const [gitignore, line, pattern = ""] = source.split(":");
    if (!gitignore) continue;
    linesUsed.add(`${gitignore}:${line}`);
    if (!pattern.startsWith("!")) ignored.add(file);
  }
  return { ignored, linesUsed };
}

describe("the default source's ignore list", () => {
  it("leaves out everything git ignores (secrets, local state, dumps, dependencies, output)", async () => {
    const probes = [...GENERATED, ...SECRETS_AND_STATE];
    const { ignored } = await gitIgnore(probes);
    const uploaded = [...ignored].filter((file) => !isIgnored(SOURCE_IGNORE, file));
    expect(uploaded, "git ignores these, but the module would upload them").toEqual([]);
  });

  it("and git ignores every secret and piece of local state too, so neither can be committed", async () => {
    const { ignored } = await gitIgnore(SECRETS_AND_STATE);
    expect(SECRETS_AND_STATE.filter((file) => !ignored.has(file))).toEqual([]);
    expect(SECRETS_AND_STATE.filter((file) => !isIgnored(SOURCE_IGNORE, file))).toEqual([]);
  });

  it("is checked against every entry of every .gitignore (a new entry needs a probe above)", async () => {
    const { linesUsed } = await gitIgnore([
      ...GENERATED,
      ...SECRETS_AND_STATE,
      "compose/.env.example",
      "app/.env.example",
    ]);
    const gitignores = (await trackedFiles()).filter((f) => path.basename(f) === ".gitignore");
    const entries = gitignores.flatMap((file) =>
      readFileSync(path.join(repoRoot, file), "utf8")
        .split("\n")
        .map((line, i) => ({ line: line.trim(), at: `${file}:${i + 1}` }))
        .filter(({ line }) => line !== "" && !line.startsWith("#"))
        .map(({ at }) => at),
    );
    expect(entries.filter((at) => !linesUsed.has(at))).toEqual([]);
  });

  it("keeps every tracked file git keeps, and the example environment file", async () => {
    const tracked = await trackedFiles();
    const { ignored } = await gitIgnore(tracked);
    const dropped = tracked.filter((file) => !ignored.has(file) && isIgnored(SOURCE_IGNORE, file));
    expect(dropped).toEqual([]);
    expect(isIgnored(SOURCE_IGNORE, "compose/.env.example")).toBe(false);
    expect(isIgnored(SOURCE_IGNORE, "nginx/ffdhe2048.pem")).toBe(false);
  });
});

describe("the Docker build context", () => {
  it("is the source Dagger uploads: .dockerignore is SOURCE_IGNORE, line for line", () => {
    // app/Dockerfile's test stage copies the whole context; a docker build must see what `dagger call test` sees.
    const patterns = readFileSync(path.join(repoRoot, ".dockerignore"), "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    expect(patterns).toEqual(SOURCE_IGNORE);
  });
});

describe("the ignore patterns, read as Dagger reads them", () => {
  it("match from the root unless they start with **, and a directory takes its contents with it", () => {
    expect(isIgnored([".env"], ".env")).toBe(true);
    expect(isIgnored([".env"], "app/.env")).toBe(false);
    expect(isIgnored(["**/.env"], "app/.env")).toBe(true);
    expect(isIgnored(["**/node_modules"], "app/node_modules/pg/lib/index.js")).toBe(true);
    expect(isIgnored(["compose/*.env"], "compose/prod.env")).toBe(true);
    expect(isIgnored(["compose/*.env"], "compose/sub/prod.env")).toBe(false);
  });

  it("the last pattern that matches decides, so ! keeps a file back", () => {
    expect(isIgnored(["**/.env.*", "!**/.env.example"], "compose/.env.example")).toBe(false);
    expect(isIgnored(["**/.env.*", "!**/.env.example"], "compose/.env.prod")).toBe(true);
  });
});

describe("the source scan's scope", () => {
  const dockerfiles = async () =>
    (await trackedFiles()).filter((file) =>
      /(^|\/)(Dockerfile|[^/]+\.Dockerfile|Dockerfile\.[^/]+)$/.test(file),
    );

  it("every Dockerfile the scan reads passes the checks that would fail it", async () => {
    const inScope = (await dockerfiles()).filter(inScanScope);
    expect(inScope).toContain("app/Dockerfile");
    const failing = inScope.flatMap((file) =>
      checkDockerfile(readFileSync(path.join(repoRoot, file), "utf8")).map(
        (f) => `${file}:${f.line} ${f.id} ${f.message}`,
      ),
    );
    expect(failing).toEqual([]);
  });

  it("leaves out only test fixtures, each there on purpose: the stand-ins that run as root like the images they copy", async () => {
    const all = await dockerfiles();
    const excluded = all.filter((file) => !inScanScope(file) && !isIgnored(SOURCE_IGNORE, file));
    for (const dir of SCAN_EXCLUDED_DIRECTORIES) expect(dir.startsWith("test/")).toBe(true);
    expect(excluded.length).toBeGreaterThan(0);
    expect(excluded.every((file) => file.startsWith("test/docker/standins/"))).toBe(true);
    // The exclusion is what keeps them from failing the gate: without it, DS002 would.
    const rootImages = excluded.filter((file) =>
      checkDockerfile(readFileSync(path.join(repoRoot, file), "utf8")).some((f) => f.id === "DS002"),
    );
    expect(rootImages.length).toBeGreaterThan(0);
  });
});

describe("the Dockerfile checks", () => {
  const ids = (text: string) => checkDockerfile(text).map((f) => f.id);

  it("want a non-root user in the final stage, whatever the build stages do", () => {
    expect(ids('FROM node:24 AS build\nUSER node\nFROM node:24\nCMD ["node"]\n')).toEqual(["DS002"]);
    expect(ids("FROM node:24\nUSER root\n")).toEqual(["DS002"]);
    expect(ids("FROM node:24\nUSER 0:0\n")).toEqual(["DS002"]);
    expect(ids("FROM node:24 AS build\nFROM node:24\nUSER node\n")).toEqual([]);
  });

  it("flag apt without --no-install-recommends, an update alone, a relative WORKDIR and repeated CMDs", () => {
    expect(ids("FROM debian\nRUN apt-get update \\\n && apt-get install -y curl\nUSER app\n")).toEqual([
      "DS029",
    ]);
    expect(ids("FROM debian\nRUN apt-get update\nUSER app\n")).toEqual(["DS017"]);
    expect(ids("FROM debian\nWORKDIR srv\nUSER app\n")).toEqual(["DS009"]);
    expect(ids("FROM debian\nCMD a\nCMD b\nUSER app\n")).toEqual(["DS016"]);
    expect(ids("FROM alpine\n# apt-get install x\nRUN apk add curl\nUSER app\n")).toEqual(["DS025"]);
  });
});

describe("the production image's final stage", () => {
  const dockerfile = readFileSync(path.join(repoRoot, "app/Dockerfile"), "utf8");
  const all = instructions(dockerfile);
  const finalStage = all.slice(all.map((i) => i.keyword).lastIndexOf("FROM"));

  it("runs on the runtime base and takes only the node binary from the Node image, not npm, npx or corepack", () => {
    expect(finalStage[0]?.args).toMatch(/^\$\{RUNTIME_IMAGE\}$/);
    const copied = finalStage
      .filter((i) => i.keyword === "COPY" && i.args.startsWith("--from="))
      .map((i) => i.args.split(/\s+/)[1]);
    expect(copied).toContain("/usr/local/bin/node");
    const outsideTheService = copied.filter(
      (source) => source !== "/usr/local/bin/node" && !/^\/(srv|src\/app)\//.test(source ?? ""),
    );
    expect(outsideTheService).toEqual([]);
  });

  it("starts, and checks its health, with node alone", () => {
    const runs = finalStage.filter((i) => ["CMD", "ENTRYPOINT", "HEALTHCHECK"].includes(i.keyword));
    expect(runs.map((i) => i.keyword).sort()).toEqual(["CMD", "HEALTHCHECK"]);
    for (const i of runs) expect(i.args).not.toMatch(/\b(npm|npx|corepack|yarn)\b/);
  });
});
