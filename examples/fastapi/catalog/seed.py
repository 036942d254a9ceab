"""Demo products; idempotent, so running it twice (or after real data exists) changes nothing."""

from __future__ import annotations

from catalog.db import connect

DEMO_PRODUCTS = [
    ("MUG-001", "Enamel mug", "Camp mug, 350 ml", 1200, 250),
    ("TEE-002", "Logo T-shirt", "Organic cotton", 2500, 120),
    ("CAP-003", "Cap", "One size", 1800, 80),
    ("BAG-004", "Tote bag", "Canvas, 10 l", 1500, 300),
    ("STK-005", "Sticker pack", "Six vinyl stickers", 500, 1000),
]


def seed_demo_data(database_url: str) -> int:
    inserted = 0
    with connect(database_url) as conn:
        for product in DEMO_PRODUCTS:
            inserted += conn.execute(
                """INSERT INTO products (sku, name, description, price_cents, stock)
                   VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sku) DO NOTHING""",
                product,
            ).rowcount
    return inserted
