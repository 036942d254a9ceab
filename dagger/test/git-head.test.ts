/** The default revision: the commit a checkout is at, read from .git/HEAD and the refs alone. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GIT_HEAD_FILES, parseHead, refCommit } from "../src/lib/git-head.js";
import { isIgnored } from "../src/lib/source-scope.js";

const commit = "3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345";

describe("what .git/HEAD says", () => {
  it("a branch a checkout follows, as after `git checkout -B main` (GitHub's checkout of a push)", () => {
    expect(parseHead("ref: refs/heads/main\n")).toEqual({ ref: "refs/heads/main" });
  });

  it("a commit, when detached (GitLab's checkout, a pull request's merge commit)", () => {
    expect(parseHead(`${commit}\n`)).toEqual({ commit });
  });

  it("nothing it cannot trust: a ref outside refs/, a way out of .git, garbage", () => {
    expect(parseHead("ref: ../../etc/passwd")).toBeUndefined();
    expect(parseHead("ref: refs/heads/../../../x")).toBeUndefined();
    expect(parseHead("ref: HEAD")).toBeUndefined();
    expect(parseHead("main")).toBeUndefined();
    expect(parseHead("")).toBeUndefined();
  });
});

describe("the commit a ref points at", () => {
  const packed = `# pack-refs with: peeled fully-peeled sorted\n${commit} refs/heads/main\n^0123456789abcdef0123456789abcdef01234567\n`;

  it("from its loose file, else from packed-refs", () => {
    expect(refCommit("refs/heads/main", `${commit}\n`, undefined)).toBe(commit);
    expect(refCommit("refs/heads/main", undefined, packed)).toBe(commit);
  });

  it("none for a branch without a commit yet", () => {
    expect(refCommit("refs/heads/new", undefined, packed)).toBeUndefined();
    expect(refCommit("refs/heads/main", undefined, undefined)).toBeUndefined();
  });
});

describe("what of the checkout is uploaded for it", () => {
  it("only .git/HEAD and the refs: no objects, no source", () => {
    const kept = (p: string) => !isIgnored(GIT_HEAD_FILES, p);
    expect(kept(".git/HEAD")).toBe(true);
    expect(kept(".git/refs/heads/main")).toBe(true);
    expect(kept(".git/packed-refs")).toBe(true);
    expect(kept(".git/objects/3f/9c2a1b")).toBe(false);
    expect(kept(".git/config")).toBe(false);
    expect(kept("app/src/server.ts")).toBe(false);
    expect(kept(".env")).toBe(false);
  });
});

describe("against a real repository", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "shipyard-git-head-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    }).trim();
  const read = (file: string) => {
    try {
      return readFileSync(path.join(dir, ".git", file), "utf8");
    } catch {
      return undefined;
    }
  };
  const headOf = () => {
    const head = parseHead(read("HEAD") ?? "");
    if (!head) return undefined;
    return "commit" in head ? head.commit : refCommit(head.ref, read(head.ref), read("packed-refs"));
  };

  it("reads what `git rev-parse HEAD` prints: on a branch, after gc packs the refs, and detached", () => {
    git("init", "--quiet", "--initial-branch=main");
    writeFileSync(path.join(dir, "a.txt"), "a");
    git("add", "a.txt");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "a");
    const expected = git("rev-parse", "HEAD");
    expect(headOf()).toBe(expected);
    git("pack-refs", "--all", "--prune");
    expect(read("refs/heads/main")).toBeUndefined();
    expect(headOf()).toBe(expected);
    git("checkout", "--quiet", "--detach");
    expect(headOf()).toBe(expected);
  });
});
