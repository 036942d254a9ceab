"""Products in Postgres. Rows become the API's models here and nowhere else."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors

from catalog.db import ConnectionPool
from catalog.models import KEYSET_PAGE_SQL, NewProduct, Page, Product, ProductChanges, to_page

COLUMNS = "id, sku, name, description, price_cents, stock, created_at, updated_at"


class DuplicateSku(Exception):
    pass


class ProductHasOrders(Exception):
    pass


class ProductStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def list(self, limit: int, after: int) -> Page[Product]:
        rows = self._all(f"SELECT {COLUMNS} FROM products {KEYSET_PAGE_SQL}", (after, limit + 1))
        return to_page(rows, limit, Product.from_row)

    def get(self, product_id: int) -> Product | None:
        rows = self._all(f"SELECT {COLUMNS} FROM products WHERE id = %s", (product_id,))
        return Product.from_row(rows[0]) if rows else None

    def create(self, new: NewProduct) -> Product:
        try:
            rows = self._all(
                f"""INSERT INTO products (sku, name, description, price_cents, stock)
                    VALUES (%s, %s, %s, %s, %s) RETURNING {COLUMNS}""",
                (new.sku, new.name, new.description, new.price_cents, new.stock),
            )
        except errors.UniqueViolation as error:
            raise DuplicateSku(f'a product with sku "{new.sku}" already exists') from error
        return Product.from_row(rows[0])

    def update(self, product_id: int, changes: ProductChanges) -> Product | None:
        try:
            rows = self._all(
                f"""UPDATE products SET
                      sku = COALESCE(%s, sku), name = COALESCE(%s, name),
                      description = COALESCE(%s, description), price_cents = COALESCE(%s, price_cents),
                      stock = COALESCE(%s, stock), updated_at = now()
                    WHERE id = %s RETURNING {COLUMNS}""",
                (
                    changes.sku,
                    changes.name,
                    changes.description,
                    changes.price_cents,
                    changes.stock,
                    product_id,
                ),
            )
        except errors.UniqueViolation as error:
            raise DuplicateSku(f'a product with sku "{changes.sku}" already exists') from error
        return Product.from_row(rows[0]) if rows else None

    def delete(self, product_id: int) -> bool:
        try:
            with self.pool.connection() as conn:
                return conn.execute("DELETE FROM products WHERE id = %s", (product_id,)).rowcount == 1
        except errors.ForeignKeyViolation as error:
            raise ProductHasOrders("the product has orders and cannot be deleted") from error

    def _all(self, query: Any, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            cursor: psycopg.Cursor[dict[str, Any]] = conn.execute(query, params)
            return cursor.fetchall()
