/**
 * The memory limit of the container the process runs in, read once from its cgroup: what the kernel's OOM
 * killer enforces (compose's `mem_limit`). Null outside a container, or when the container has no limit.
 */
import { readFileSync } from "node:fs";

/** cgroup v2, then v1: the file that holds the limit of the process's own cgroup (namespaced in Docker). */
const LIMIT_FILES = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"];

/**
 * Bytes, or null for "no limit": v2 writes `max`; v1 writes a huge number (a page-rounded 2^63), so
 * anything beyond 2^60 bytes (an exabyte) means unlimited too.
 */
export function parseMemoryLimit(text: string): number | null {
  const value = text.trim();
  if (!/^\d+$/.test(value)) return null;
  const bytes = Number(value);
  return bytes > 0 && bytes < 2 ** 60 ? bytes : null;
}

export function readContainerMemoryLimit(
  read: (file: string) => string = (f) => readFileSync(f, "utf8"),
): number | null {
  for (const file of LIMIT_FILES) {
    try {
      return parseMemoryLimit(read(file));
    } catch {
      // Not this cgroup version (or not Linux): try the next file.
    }
  }
  return null;
}
