"""
Read-through cache of product reads in Redis.

Each product has one entry, stored with the generation of that product it was loaded under, and every write
to the product bumps its generation. A reader asks for the entry and the current generation in one MGET; the
entry answers only if its generation is the current one. On a miss the reader loads Postgres and stores the
result under the generation it saw *before* loading, so a slow reader that loaded stale data stores it under
a generation already past: invalidation never races with a fill. List pages work the same way under one
generation for the whole list, which every write bumps too (an order changes the stock a page shows).

Redis being down is not an error for readers: they fall back to Postgres, and /readyz reports the outage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis

from catalog.metrics import Metrics
from catalog.models import Page, Product

log = logging.getLogger("catalog.cache")

LIST_GENERATION = "catalog:gen:list"
CACHE_LABEL = "products"
# What FastAPI sends for an uncached answer, so a cached one reads the same.
COMPACT = (",", ":")


def product_generation(product_id: int) -> str:
    return f"catalog:gen:product:{product_id}"


def product_entry(product_id: int) -> str:
    return f"catalog:entry:product:{product_id}"


def page_entry(limit: int, after: int) -> str:
    return f"catalog:entry:page:{limit}:{after}"


def current_json(entry: bytes | None, generation: bytes | None) -> str | None:
    """An entry is `<generation>:<json>`: its JSON while that generation is the current one, else None."""
    prefix = (generation or b"0") + b":"
    return entry[len(prefix) :].decode() if entry is not None and entry.startswith(prefix) else None


def entry_value(generation: bytes | None, json: str) -> bytes:
    return (generation or b"0") + b":" + json.encode()


class ProductCache:
    def __init__(self, client: redis.Redis, ttl_seconds: int, metrics: Metrics) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.metrics = metrics

    def product(self, product_id: int, load: Callable[[], Product | None]) -> str | None:
        """One product as the JSON the API answers: one MGET, then Postgres only on a miss."""
        return self._read_through(
            product_entry(product_id),
            product_generation(product_id),
            lambda: (product.json(by_alias=True, separators=COMPACT) if (product := load()) else None),
        )

    def page(self, limit: int, after: int, load: Callable[[], Page[Product]]) -> str:
        json = self._read_through(
            page_entry(limit, after), LIST_GENERATION, lambda: load().json(by_alias=True, separators=COMPACT)
        )
        assert json is not None  # a page always loads
        return json

    def product_changed(self, product_id: int) -> None:
        """After any write to a product (an order, an edit, a create or a delete)."""
        try:
            with self.client.pipeline(transaction=True) as transaction:
                transaction.incr(product_generation(product_id)).incr(LIST_GENERATION).execute()
        except redis.RedisError:
            # Cannot invalidate: entries expire within the TTL. Loud: readers may see stale data until then.
            self.metrics.cache_errors.labels(CACHE_LABEL).inc()
            log.error("product cache invalidation failed", exc_info=True, extra={"productId": product_id})

    def _read_through(
        self, entry_key: str, generation_key: str, load: Callable[[], str | None]
    ) -> str | None:
        try:
            entry, generation = self.client.mget([entry_key, generation_key])
        except redis.RedisError:
            self.metrics.cache_errors.labels(CACHE_LABEL).inc()
            log.warning("product cache unavailable; reading from Postgres", exc_info=True)
            return load()
        cached = current_json(entry, generation)
        if cached is not None:
            self.metrics.cache_hits.labels(CACHE_LABEL).inc()
            return cached
        self.metrics.cache_misses.labels(CACHE_LABEL).inc()
        loaded = load()
        if loaded is not None:
            try:
                self.client.set(entry_key, entry_value(generation, loaded), ex=self.ttl_seconds)
            except redis.RedisError:
                self.metrics.cache_errors.labels(CACHE_LABEL).inc()
                log.warning("could not fill product cache", exc_info=True)
        return loaded
