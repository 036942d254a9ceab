"""
The API's shapes: camelCase JSON like the Node sample's, snake_case attributes in Python.

Every value a route passes to Postgres is bounded here to what its column can hold, so bad input is a 400
naming the field, never a database error answered as 500.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, conint, constr, root_validator, validator
from pydantic.generics import GenericModel

INT4_MAX = 2_147_483_647  # the largest Postgres `integer`: every id column is one


def to_camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def iso_time(moment: datetime) -> str:
    """The Node sample's timestamps: UTC, milliseconds, a `Z`."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ApiModel(BaseModel):
    class Config:
        alias_generator = to_camel
        allow_population_by_field_name = True
        extra = "forbid"


# Strict: JSON `"5"` or `5.5` is not a quantity (pydantic would otherwise coerce both).
# (pydantic 1's constrained types: the documented way to bound a field there, though mypy cannot read them.)
RowId = conint(strict=True, ge=1, le=INT4_MAX)
PriceCents = conint(strict=True, ge=0, le=1_000_000)
Stock = conint(strict=True, ge=0, le=1_000_000_000)
Quantity = conint(strict=True, ge=1, le=1000)
Sku = constr(min_length=1, max_length=64)
Name = constr(min_length=1, max_length=200)
Description = constr(max_length=2000)


def strip(value: Any) -> Any:
    """Before the length checks, so a name of spaces is refused as empty."""
    return value.strip() if isinstance(value, str) else value


def no_nul(value: str | None) -> str | None:
    # Postgres `text` cannot hold U+0000 and fails the whole statement (22021): refuse it here, as a 400.
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000)")
    return value


class Product(ApiModel):
    id: int
    sku: str
    name: str
    description: str
    price_cents: int
    stock: int
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Product:
        return cls(
            id=row["id"],
            sku=row["sku"],
            name=row["name"],
            description=row["description"],
            price_cents=row["price_cents"],
            stock=row["stock"],
            created_at=iso_time(row["created_at"]),
            updated_at=iso_time(row["updated_at"]),
        )


class NewProduct(ApiModel):
    sku: Sku
    name: Name
    description: Description = ""
    price_cents: PriceCents
    stock: Stock

    _strip = validator("sku", "name", pre=True, allow_reuse=True)(strip)
    _no_nul = validator("sku", "name", "description", allow_reuse=True)(no_nul)


class ProductChanges(ApiModel):
    sku: Sku | None = None
    name: Name | None = None
    description: Description | None = None
    price_cents: PriceCents | None = None
    stock: Stock | None = None

    _strip = validator("sku", "name", pre=True, allow_reuse=True)(strip)
    _no_nul = validator("sku", "name", "description", allow_reuse=True)(no_nul)

    @root_validator(pre=True)
    def one_field_at_least_and_no_nulls(cls, values: dict[str, Any]) -> dict[str, Any]:  # noqa: N805
        if not values:
            raise ValueError("send at least one field to change")
        nulls = sorted(name for name, value in values.items() if value is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} must not be null: leave a field out to keep it")
        return values


class Order(ApiModel):
    id: int
    product_id: int
    quantity: int
    unit_price_cents: int
    total_cents: int
    created_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Order:
        return cls(
            id=row["id"],
            product_id=row["product_id"],
            quantity=row["quantity"],
            unit_price_cents=row["unit_price_cents"],
            total_cents=row["total_cents"],
            created_at=iso_time(row["created_at"]),
        )


class NewOrder(ApiModel):
    product_id: RowId
    quantity: Quantity


Item = TypeVar("Item", bound=ApiModel)


class Page(GenericModel, Generic[Item]):
    """Keyset pages: pass `nextAfter` as `after` for the next page; null on the last page."""

    items: list[Item]
    nextAfter: int | None  # noqa: N815  (the JSON name; a generic model takes no alias generator)


def to_page(rows: list[dict[str, Any]], limit: int, from_row: Callable[[dict[str, Any]], Item]) -> Page[Item]:
    """Queries fetch `limit + 1` rows; the extra one only tells whether another page exists."""
    next_after = rows[limit - 1]["id"] if len(rows) > limit else None
    return Page[Item](items=[from_row(row) for row in rows[:limit]], nextAfter=next_after)


KEYSET_PAGE_SQL = "WHERE id > %s ORDER BY id LIMIT %s"
