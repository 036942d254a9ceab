/**
 * Exact row counts per table, the evidence that a restored dump holds what the source held.
 * The source is counted inside the transaction whose snapshot pg_dump then uses (pg_export_snapshot),
 * so the counts and the dump describe the very same moment even while the app keeps writing.
 */
import pg from "pg";
import type { TableCount } from "./catalog.js";

const TABLES = `
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2`;

async function countTables(client: pg.Client): Promise<TableCount[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(TABLES);
  const counts: TableCount[] = [];
  for (const { schema, name } of rows) {
    const qualified = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
    const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified}`);
    counts.push({ table: `${schema}.${name}`, rows: Number(result.rows[0]?.n ?? 0) });
  }
  return counts;
}

export interface ConnectionConfig {
  host: string;
  port: string;
  user: string;
  password: string;
  sslmode: string | undefined;
}

function client(conn: ConnectionConfig, database: string): pg.Client {
  return new pg.Client({
    host: conn.host,
    port: Number(conn.port),
    user: conn.user,
    password: conn.password,
    database,
    ...(conn.sslmode && conn.sslmode !== "disable"
      ? { ssl: { rejectUnauthorized: conn.sslmode === "verify-full" } }
      : {}),
  });
}

export async function countRows(conn: ConnectionConfig, database: string): Promise<TableCount[]> {
  const c = client(conn, database);
  await c.connect();
  try {
    return await countTables(c);
  } finally {
    await c.end();
  }
}

export interface HeldSnapshot {
  id: string;
  counts: TableCount[];
  /** Ends the transaction; the snapshot is usable by pg_dump only until then. */
  release(): Promise<void>;
}

export async function holdSnapshot(conn: ConnectionConfig, database: string): Promise<HeldSnapshot> {
  const c = client(conn, database);
  await c.connect();
  try {
    await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await c.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
    const id = rows[0]?.id;
    if (!id) throw new Error("pg_export_snapshot() returned nothing");
    const counts = await countTables(c);
    return {
      id,
      counts,
      release: async () => {
        await c.query("COMMIT").catch(() => undefined);
        await c.end();
      },
    };
  } catch (error) {
    await c.end().catch(() => undefined);
    throw error;
  }
}

/** Pure: every difference between what the source had and what the restore produced. */
export function compareCounts(expected: readonly TableCount[], actual: readonly TableCount[]): string[] {
  const have = new Map(actual.map((t) => [t.table, t.rows]));
  const problems: string[] = [];
  for (const { table, rows } of expected) {
    const got = have.get(table);
    if (got === undefined) problems.push(`table ${table} is missing (source had ${rows} rows)`);
    else if (got !== rows) problems.push(`table ${table} has ${got} rows, source had ${rows}`);
  }
  const want = new Set(expected.map((t) => t.table));
  for (const { table } of actual) if (!want.has(table)) problems.push(`table ${table} is not in the source`);
  return problems;
}
