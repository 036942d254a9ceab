import { describe, expect, it } from "vitest";
import { toPage } from "../../src/db/pagination.js";

const rows = (ids: number[]) => ids.map((id) => ({ id }));

describe("toPage", () => {
  it("points at the last item when the query found one row more than the limit", () => {
    expect(toPage(rows([1, 2, 3]), 2, (r) => r)).toEqual({ items: rows([1, 2]), nextAfter: 2 });
  });

  it("ends the listing when the query found no more than the limit", () => {
    expect(toPage(rows([1, 2]), 2, (r) => r)).toEqual({ items: rows([1, 2]), nextAfter: null });
    expect(toPage([], 2, (r: { id: number }) => r)).toEqual({ items: [], nextAfter: null });
  });
});
