/**
 * A JSON-lines file on the target host, only ever appended to (the release ledger, the audit log): a line
 * shorter than PIPE_BUF written with O_APPEND (`>>`) lands whole even when two writers race, so no lock is
 * needed to append, and a reader takes the last lines with tail.
 */
import type { z } from "zod";
import type { Command } from "./argv.js";

const APPEND = `mkdir -p -- "$(dirname -- "$1")" && cat >> "$1"`;
const TAIL = `if [ -f "$1" ]; then tail -n "$2" -- "$1"; fi`;
const PIPE_BUF = 4096;

export interface JsonLinesFile<T> {
  append(file: string, record: T): Command;
  tail(file: string, count: number): Command;
  /** Oldest first, as written; a line that is not a valid record is an error naming its number. */
  parse(stdout: string): T[];
}

/**
 * `label` names the shell commands (`shipyard-ledger`), `record` a record in messages ("release record"),
 * `lines` the file in messages ("release ledger").
 */
export function jsonLinesFile<S extends z.ZodType>(
  schema: S,
  names: { label: string; record: string; lines: string },
): JsonLinesFile<z.infer<S>> {
  return {
    append(file, record) {
      const line = `${JSON.stringify(schema.parse(record))}\n`;
      // Longer lines could interleave with a concurrent append; records are kept short, so this is a bug guard.
      if (Buffer.byteLength(line) > PIPE_BUF)
        throw new Error(`${names.record} longer than ${PIPE_BUF} bytes`);
      return { argv: ["sh", "-c", APPEND, names.label, file], stdin: line };
    },
    tail: (file, count) => ({ argv: ["sh", "-c", TAIL, names.label, file, String(count)] }),
    parse: (stdout) =>
      stdout
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line, index) => {
          try {
            return schema.parse(JSON.parse(line));
          } catch (error) {
            throw new Error(
              `${names.lines} line ${index + 1} of the shown tail is not a valid record: ${error}`,
            );
          }
        }),
  };
}
