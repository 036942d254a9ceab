import { describe, expect, it } from "vitest";
import { parseMemoryLimit, readContainerMemoryLimit } from "../../src/observability/memory-limit.js";

describe("the container's memory limit", () => {
  it("reads bytes, and no limit as null (v2 `max`, v1's huge number)", () => {
    expect(parseMemoryLimit("536870912\n")).toBe(512 * 1024 ** 2);
    expect(parseMemoryLimit("max\n")).toBeNull();
    expect(parseMemoryLimit("9223372036854771712\n")).toBeNull();
    expect(parseMemoryLimit("")).toBeNull();
  });

  it("tries cgroup v2, then v1, and gives null outside a container", () => {
    const files = (present: Record<string, string>) => (file: string) => {
      const text = present[file];
      if (text === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
      return text;
    };
    expect(readContainerMemoryLimit(files({ "/sys/fs/cgroup/memory.max": "1073741824" }))).toBe(1024 ** 3);
    expect(
      readContainerMemoryLimit(files({ "/sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456" })),
    ).toBe(256 * 1024 ** 2);
    expect(readContainerMemoryLimit(files({}))).toBeNull();
  });
});
