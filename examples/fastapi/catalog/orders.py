"""Orders in Postgres; placing one takes the stock in the same statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.db import ConnectionPool
from catalog.models import KEYSET_PAGE_SQL, Order, Page, to_page

COLUMNS = "id, product_id, quantity, unit_price_cents, total_cents, created_at"

# Placing an order is one statement, so one round trip and its own transaction. The conditional UPDATE both
# checks and takes the stock; the row lock it holds serializes concurrent orders for the same product (a
# waiting one re-checks `stock >= qty` against the committed row), so two buyers never take the same last
# unit. No row taken, nothing inserted: the statement answers no row.
PLACE_ORDER_SQL = f"""
  WITH taken AS (
    UPDATE products SET stock = stock - %(quantity)s::integer, updated_at = now()
    WHERE id = %(product_id)s::integer AND stock >= %(quantity)s::integer
    RETURNING id, price_cents
  )
  INSERT INTO orders (product_id, quantity, unit_price_cents, total_cents)
  SELECT id, %(quantity)s::integer, price_cents, price_cents::bigint * %(quantity)s::integer FROM taken
  RETURNING {COLUMNS}"""


@dataclass(frozen=True)
class Placed:
    order: Order


@dataclass(frozen=True)
class UnknownProduct:
    pass


@dataclass(frozen=True)
class InsufficientStock:
    available: int


PlaceOrderResult = Placed | UnknownProduct | InsufficientStock


class OrderStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def place(self, product_id: int, quantity: int) -> PlaceOrderResult:
        with self.pool.connection() as conn:
            row = conn.execute(PLACE_ORDER_SQL, {"product_id": product_id, "quantity": quantity}).fetchone()
            if row:
                return Placed(Order.from_row(row))
            # Only on refusal: was the product missing, or its stock short? (The stock may have moved since;
            # the answer is what a buyer would see now.)
            product = conn.execute("SELECT stock FROM products WHERE id = %s", (product_id,)).fetchone()
        return InsufficientStock(available=product["stock"]) if product else UnknownProduct()

    def get(self, order_id: int) -> Order | None:
        with self.pool.connection() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM orders WHERE id = %s", (order_id,)).fetchone()
        return Order.from_row(row) if row else None

    def list(self, limit: int, after: int) -> Page[Order]:
        with self.pool.connection() as conn:
            rows: list[dict[str, Any]] = conn.execute(
                f"SELECT {COLUMNS} FROM orders {KEYSET_PAGE_SQL}", (after, limit + 1)
            ).fetchall()
        return to_page(rows, limit, Order.from_row)
