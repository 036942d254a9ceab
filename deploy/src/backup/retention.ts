/**
 * Which backups to keep (restic's --keep-last/--keep-daily/--keep-weekly): the `last` most recent,
 * the newest of each of the last `daily` days that have a backup, and the newest of each of the last
 * `weekly` ISO weeks that have one (days and weeks in UTC). Pure, so the policy is tested exactly.
 */
import type { Retention } from "../config/environments.js";

export interface Dated {
  id: string;
  createdAt: string;
}

const dayKey = (d: Date) => d.toISOString().slice(0, 10);

/** ISO 8601 week, e.g. "2026-W48": weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeekKey(d: Date): string {
  const date = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function newestPerPeriod<T extends Dated>(
  newestFirst: readonly T[],
  key: (d: Date) => string,
  count: number,
) {
  const kept = new Set<string>();
  const periods = new Set<string>();
  for (const backup of newestFirst) {
    const period = key(new Date(backup.createdAt));
    if (periods.has(period)) continue;
    if (periods.size >= count) break;
    periods.add(period);
    kept.add(backup.id);
  }
  return kept;
}

export function applyRetention<T extends Dated>(
  backups: readonly T[],
  policy: Retention,
): { keep: T[]; remove: T[] } {
  const newestFirst = [...backups].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const kept = new Set([
    ...newestFirst.slice(0, policy.last).map((b) => b.id),
    ...newestPerPeriod(newestFirst, dayKey, policy.daily),
    ...newestPerPeriod(newestFirst, isoWeekKey, policy.weekly),
  ]);
  return {
    keep: newestFirst.filter((b) => kept.has(b.id)),
    remove: newestFirst.filter((b) => !kept.has(b.id)),
  };
}
