/** The CLI's tables (audit, releases, backups): one header line, then one line per row, columns aligned. */

/** Each column as wide as its widest cell, two spaces between; the last column is not padded. */
export function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all.map((row) =>
    header
      .map((_, i) => {
        const cell = row[i] ?? "";
        return i === header.length - 1 ? cell : cell.padEnd(widths[i] as number);
      })
      .join("  ")
      .trimEnd(),
  );
}
