import { describe, expect, it } from "vitest";
import { needsAdmin, requireAdmin } from "../../src/plugins/admin-auth.js";

describe("needsAdmin", () => {
  const check = requireAdmin("0123456789abcdef");
  const other = async () => {};

  it("finds the admin check among a route's onRequest hooks, alone or in a list", () => {
    expect(needsAdmin(check)).toBe(true);
    expect(needsAdmin([other, check])).toBe(true);
  });

  it("finds nothing on a route without it", () => {
    expect(needsAdmin(undefined)).toBe(false);
    expect(needsAdmin(other)).toBe(false);
    expect(needsAdmin([other])).toBe(false);
  });
});
