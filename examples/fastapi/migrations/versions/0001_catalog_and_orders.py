"""Catalog and orders: the same schema as the Node sample's first migration.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE products (
          id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          sku text NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 64),
          name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
          description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
          price_cents integer NOT NULL CHECK (price_cents BETWEEN 0 AND 1000000),
          -- The last line of defence against overselling: even a buggy query cannot drive stock negative.
          stock integer NOT NULL CHECK (stock >= 0),
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE orders (
          id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          product_id integer NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
          quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
          unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
          total_cents bigint NOT NULL CHECK (total_cents = quantity::bigint * unit_price_cents),
          created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX orders_product_id_idx ON orders (product_id)")


def downgrade() -> None:
    op.execute("DROP TABLE orders")
    op.execute("DROP TABLE products")
