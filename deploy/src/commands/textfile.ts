/**
 * A metrics file for node-exporter's textfile collector, written on the host as data: the text arrives on
 * stdin, goes to a temporary name in the same directory (which the collector skips: it reads `*.prom` only),
 * then is renamed over the file, so a scrape reads the old file or the new one, never half of one. Readable
 * by all: node-exporter runs as nobody.
 */
import type { Command } from "./argv.js";

const WRITE = `set -e
file=$1
mkdir -p -- "$(dirname -- "$file")"
tmp="$file.$$.tmp"
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
chmod 644 -- "$tmp"
mv -f -- "$tmp" "$file"
trap - EXIT`;

export function writeTextfile(file: string, text: string): Command {
  return { argv: ["sh", "-c", WRITE, "shipyard-textfile", file], stdin: text };
}
