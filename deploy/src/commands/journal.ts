/**
 * The release journal on the target host: what a running release has changed so far, so that the undo
 * still happens when the CLI that made the changes is killed (kill -9, a cancelled CI job, a lost laptop).
 * Written by rename like the upstream file, so a reader never sees half of it.
 */
import path from "node:path";
import type { Command } from "./argv.js";

export const journalFile = (stateDirectory: string) =>
  path.posix.join(stateDirectory, "release-journal.json");

const WRITE = `set -e
mkdir -p -- "$(dirname -- "$1")"
cat > "$1.new"
mv -T -- "$1.new" "$1"`;

export function writeJournal(stateDirectory: string, text: string): Command {
  return { argv: ["sh", "-c", WRITE, "shipyard-journal", journalFile(stateDirectory)], stdin: text };
}

// Exit 0 with nothing printed: no release was interrupted.
const READ = `if [ -f "$1" ]; then cat -- "$1"; fi`;

export function readJournal(stateDirectory: string): Command {
  return { argv: ["sh", "-c", READ, "shipyard-journal", journalFile(stateDirectory)] };
}

export function clearJournal(stateDirectory: string): Command {
  return { argv: ["rm", "-f", "--", journalFile(stateDirectory)] };
}
