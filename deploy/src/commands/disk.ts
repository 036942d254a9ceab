/** Free space as data: df, for the directory a step is about to write into. */
import type { Command } from "./argv.js";

/** Bytes free to this user in the file system that holds `directory`; parse with parseFreeBytes. */
export function freeSpace(directory: string): Command {
  return { argv: ["df", "--output=avail", "-B1", "--", directory] };
}
