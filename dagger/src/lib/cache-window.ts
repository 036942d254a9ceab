/**
 * A value that changes every `hours` (UTC). Set as an environment variable before a step whose result ages
 * (a vulnerability database, apt's package index), it makes the engine run that step again once the window
 * has passed instead of serving it from cache forever.
 */
export function cacheWindow(now: Date, hours: number): string {
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 || 24 % hours !== 0) {
    throw new RangeError("hours must be a whole divisor of 24 (1, 2, 3, 4, 6, 8, 12 or 24)");
  }
  const day = now.toISOString().slice(0, 10);
  const slot = Math.floor(now.getUTCHours() / hours) * hours;
  return `${day}T${String(slot).padStart(2, "0")}`;
}
