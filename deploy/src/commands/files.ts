/**
 * Files and directories on the host that setup prepares, as data: which paths exist, the directories that
 * are missing, and a file written only where none is (never over one). Shell builtins and coreutils only.
 */
import type { Command } from "./argv.js";

// Prints the paths that exist, one a line; a missing one is an answer, not a failure.
const PRESENT = `for p in "$@"; do if [ -e "$p" ]; then printf '%s\\n' "$p"; fi; done`;

export function presentPaths(paths: readonly string[]): Command {
  return { argv: ["sh", "-c", PRESENT, "shipyard-present", ...paths] };
}

export const makeDirectories = (directories: readonly string[]): Command => ({
  argv: ["mkdir", "-p", "--", ...directories],
});

// Written beside the target, then hard-linked into place: link(2) fails where the target exists, so a file
// already there is never replaced, and a reader never sees half a file. mktemp makes it 0600 from the start.
const WRITE_NEW = `set -e
tmp=$(mktemp -- "$1.new.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
chmod "$2" -- "$tmp"
ln -- "$tmp" "$1"`;

/** `content` (on stdin, so a secret stays out of every argv) as a new file with `mode`; refused if one is there. */
export function writeNewFile(file: string, content: string, mode: "600" | "644"): Command {
  return { argv: ["sh", "-c", WRITE_NEW, "shipyard-new-file", file, mode], stdin: content };
}

/** The lines of a KEY=value file (compose/.env) that set `names`, and no other: the rest holds secrets. */
export function readSettings(file: string, names: readonly string[]): Command {
  const patterns = names.flatMap((name) => ["-e", `^${name}=`]);
  return { argv: ["grep", "--no-filename", ...patterns, "--", file], okExitCodes: [1] };
}

/** A file's content, or nothing when there is no such file. */
export function readFileIfPresent(file: string): Command {
  return { argv: ["sh", "-c", 'if [ -f "$1" ]; then cat -- "$1"; fi', "shipyard-read", file] };
}
