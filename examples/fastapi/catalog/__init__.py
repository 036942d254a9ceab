"""The catalog service: products and orders over Postgres, product reads cached in Redis."""
