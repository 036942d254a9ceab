/**
 * The commit a checkout is at, read from its git metadata, so `deploy` and `publish` need no --revision.
 * Only .git/HEAD and the refs are read (GIT_HEAD_FILES is what is uploaded): no git binary, no image to pull,
 * no object database. The reading is pure; src/git.ts hands it the files.
 */

/**
 * The `ignore` list of the checkout argument: everything but .git/HEAD, the loose refs and packed-refs. A plain
 * array literal, as SOURCE_IGNORE is (the SDK's introspector resolves a decorator's reference only in that
 * form). Dagger applies the .dockerignore syntax: `*` leaves out every top-level entry, .git included, and a
 * later `!` pattern keeps what it names below it (source-scope.ts's isIgnored reads it the same way).
 */
export const GIT_HEAD_FILES: string[] = ["*", "!.git/HEAD", "!.git/refs", "!.git/packed-refs"];

const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** A ref under refs/, without a way out of .git (`..`) or characters git refuses in a ref name. */
const REF = /^refs\/(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+$/;

/** What .git/HEAD says: a commit (detached, as CI checks out a merge request or pull request) or the ref it follows. */
export type Head = { commit: string } | { ref: string };

export function parseHead(text: string): Head | undefined {
  const line = text.trim();
  if (COMMIT.test(line)) return { commit: line };
  const ref = /^ref:\s*(\S+)$/.exec(line)?.[1];
  if (ref && REF.test(ref) && !ref.split("/").includes("..")) return { ref };
  return undefined;
}

/**
 * The commit a ref points at: its loose file (.git/<ref>) when there is one, as after a checkout or a commit,
 * else its line in packed-refs (`<commit> <ref>`, after `git gc` or a clone). Undefined for a branch with no
 * commit yet.
 */
export function refCommit(
  ref: string,
  loose: string | undefined,
  packedRefs: string | undefined,
): string | undefined {
  const direct = loose?.trim();
  if (direct && COMMIT.test(direct)) return direct;
  for (const line of (packedRefs ?? "").split("\n")) {
    const [commit, name] = line.trim().split(/\s+/);
    if (name === ref && commit && COMMIT.test(commit)) return commit;
  }
  return undefined;
}
