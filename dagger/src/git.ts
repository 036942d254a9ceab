/** Reads the commit a checkout is at from its .git files (lib/git-head.ts decides; this only reads them). */
import type { Directory } from "@dagger.io/dagger";
import { parseHead, refCommit } from "./lib/git-head.js";

async function contents(checkout: Directory, path: string): Promise<string | undefined> {
  return (await checkout.exists(path)) ? checkout.file(path).contents() : undefined;
}

/** The checkout's HEAD commit, or undefined when it has no readable .git (a worktree's .git is a file). */
export async function headCommit(checkout: Directory): Promise<string | undefined> {
  const text = await contents(checkout, ".git/HEAD");
  const head = text === undefined ? undefined : parseHead(text);
  if (!head) return undefined;
  if ("commit" in head) return head.commit;
  const [loose, packed] = await Promise.all([
    contents(checkout, `.git/${head.ref}`),
    contents(checkout, ".git/packed-refs"),
  ]);
  return refCommit(head.ref, loose, packed);
}
