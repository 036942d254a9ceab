/**
 * A mistake in what the operator asked for: the command line, or a request the tool must refuse before it
 * does anything (a restore not confirmed, a backup id the catalog does not hold). The CLI exits 2 for it,
 * where a failure of the work itself is 1 (cli/exit-codes.ts). It lives here, apart from the CLI, because
 * the backup and restore code finds some of these mistakes itself.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
