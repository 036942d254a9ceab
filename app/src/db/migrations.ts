/**
 * Schema migrations are plain SQL files in app/migrations, applied by node-pg-migrate, which records
 * them in `pgmigrations` and takes an advisory lock so two replicas starting at once apply them once.
 */
import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type pg from "pg";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));
const MIGRATIONS_TABLE = "pgmigrations";

export async function migrateUp(
  databaseUrl: string,
  log: (message: string) => void = () => {},
): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: "up",
    migrationsTable: MIGRATIONS_TABLE,
    singleTransaction: true,
    advisoryLockMode: "wait",
    checkOrder: true,
    log,
  });
  return applied.map((migration) => migration.name);
}

/** The newest migration this build ships: the version the schema must be at for the app to be ready. */
export async function expectedMigration(dir = MIGRATIONS_DIR): Promise<string | null> {
  const names = (await readdir(dir))
    .filter((file) => file.endsWith(".sql"))
    .map((file) => file.slice(0, -".sql".length))
    .sort();
  return names.at(-1) ?? null;
}

/**
 * Whether the schema has `name` applied. A release is ready on its own schema or on a newer one:
 * migrations are expand-only for the release before (expand/contract), and this is what lets the
 * previous release keep serving, and be rolled back to, after a newer release migrated.
 */
export async function hasMigration(db: Pick<pg.Pool, "query">, name: string | null): Promise<boolean> {
  if (name === null) return true;
  try {
    const { rowCount } = await db.query(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE name = $1`, [name]);
    return (rowCount ?? 0) > 0;
  } catch (error) {
    if ((error as { code?: string }).code === "42P01") return false; // undefined_table: never migrated
    throw error;
  }
}

/** The newest migration applied to the database, or null when none is (or the table does not exist). */
export async function currentMigration(db: Pick<pg.Pool, "query">): Promise<string | null> {
  try {
    const { rows } = await db.query<{ name: string }>(
      `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on DESC, id DESC LIMIT 1`,
    );
    return rows[0]?.name ?? null;
  } catch (error) {
    if ((error as { code?: string }).code === "42P01") return null; // undefined_table: never migrated
    throw error;
  }
}
