export interface Page<T> {
  items: T[];
  /** Pass as `after` to get the next page; null on the last page. */
  nextAfter: number | null;
}

/** Keyset pagination: stable under concurrent inserts and O(limit) at any depth, unlike OFFSET. */
export const KEYSET_PAGE_SQL = "WHERE id > $1 ORDER BY id LIMIT $2";

/** Queries fetch `limit + 1` rows; the extra one only tells whether another page exists. */
export function toPage<R, T extends { id: number }>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit).map(map);
  return { items, nextAfter: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
